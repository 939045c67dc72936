using System.CommandLine;
using Adapters.Hub.Cli.Help;
using Adapters.Hub.Cli.Logging;
using Adapters.Registry;
using Adapters.Registry.Auth;

namespace Adapters.Hub.Cli.Commands;

/// <summary>
/// <c>adapters-hub serve --root DIR [--host 127.0.0.1] [--port N] [--token [read:|write:]T]...</c>: runs a
/// Hub-compatible registry until Ctrl+C. Point any Hub client at it with <c>HF_ENDPOINT</c>. With the global
/// <c>-v</c>, every request is logged to standard error (method, path, status, time; never a token).
/// </summary>
internal static class ServeCommand
{
    public const int DefaultPort = 8787;

    public static Command Create()
    {
        var root = new Option<string>("--root") { Description = "Folder that holds the registry (created when missing).", Required = true };
        var host = new Option<string>("--host") { Description = "Address to listen on (default 127.0.0.1, loopback only).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = $"Port to listen on (default {DefaultPort}; 0 picks a free one).", DefaultValueFactory = _ => DefaultPort };
        var tokens = new Option<string[]>("--token")
        {
            Description = "Accept this bearer token; repeat for several. 'read:T' may only read, 'write:T' (or a bare 'T') may also write. Without any, the registry is open to everyone.",
        };
        var chunkSize = new Option<long>("--lfs-chunk-size")
        {
            Description = "LFS objects larger than this many bytes are uploaded in parts of this size (multipart transfer).",
            DefaultValueFactory = _ => 64L * 1024 * 1024,
        };

        var command = new Command("serve", "Run a Hub-compatible registry on this machine until Ctrl+C.")
        {
            root, host, port, tokens, chunkSize,
        };
        command.WithExamples(
            "adapters-hub serve --root ./registry",
            "adapters-hub serve --root ./registry --port 0 --token read:hf_reader --token write:hf_writer",
            "adapters-hub serve --root ./registry -v",
            "HF_ENDPOINT=http://127.0.0.1:8787 adapters-hub push ./my-adapter me/my-adapter");

        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            var accepted = (parseResult.GetValue(tokens) ?? []).Select(AccessToken.Parse).ToList();
            // -v logs one line per request (method, path, status, time) to standard error, tokens masked.
            using var logging = CliLogging.CreateFactory(parseResult);
            var options = new RegistryServerOptions
            {
                RootDirectory = parseResult.GetValue(root)!,
                Host = parseResult.GetValue(host)!,
                Port = parseResult.GetValue(port),
                Tokens = accepted,
                LfsChunkSize = parseResult.GetValue(chunkSize),
                RequestLog = logging?.CreateLogger("serve"),
            };
            var output = parseResult.InvocationConfiguration.Output;
            await using var server = await RegistryServer.StartAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
            var endpoint = server.Endpoint.ToString().TrimEnd('/');
            await output.WriteLineAsync($"Serving the registry in {server.RootDirectory} at {endpoint}").ConfigureAwait(false);
            await output.WriteLineAsync(accepted.Count == 0
                ? "Open registry: no token is needed, anyone who can reach the address may write."
                : $"Tokens: {string.Join(", ", accepted)}").ConfigureAwait(false);
            var loopback = options.Host == "localhost" || (System.Net.IPAddress.TryParse(options.Host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
            if (accepted.Count == 0 && !loopback)
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync($"warning: {options.Host} is not a loopback address and no --token was given: anyone who can reach it may write.").ConfigureAwait(false);
            }
            await output.WriteLineAsync($"HF_ENDPOINT={endpoint}").ConfigureAwait(false);
            await output.WriteLineAsync("Press Ctrl+C to stop.").ConfigureAwait(false);
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await output.WriteLineAsync("Stopped.").ConfigureAwait(false);
            }
            return 0;
        }));
        return command;
    }
}
