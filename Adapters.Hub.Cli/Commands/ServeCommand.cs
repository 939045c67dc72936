using System.CommandLine;
using Adapters.Hub.Cli.Help;
using Adapters.Hub.Cli.Logging;
using Adapters.Registry;
using Adapters.Registry.Auth;

namespace Adapters.Hub.Cli.Commands;

/// <summary>
/// <c>adapters-hub serve --root DIR [--host 127.0.0.1] [--port N] [--token [read:|write:]T]... [--postgres CONNECTION] [--upstream URL] [--config FILE]</c>: runs a
/// Hub-compatible registry until Ctrl+C. Point any Hub client at it with <c>HF_ENDPOINT</c>. With the global
/// <c>-v</c>, every request is logged to standard error (method, path, status, time; never a token).
/// </summary>
internal static class ServeCommand
{
    public const int DefaultPort = 8787;

    /// <summary>The environment variable <c>--postgres</c> defaults to, so that a password need not be on a command line.</summary>
    public const string PostgresVariable = "ADAPTERS_REGISTRY_POSTGRES";

    public static Command Create()
    {
        var root = new Option<string?>("--root") { Description = "Folder that holds the registry (created when missing). Required, here, in ADAPTERS_SERVE_ROOT or in the settings file." };
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

        var postgres = new Option<string?>("--postgres")
        {
            Description = $"Keep the metadata (repositories, refs, commits, discussions) in this PostgreSQL database, an Npgsql connection string, instead of registry.db (SQLite) under --root; several serve processes (replicas) may then share the database and the root. Default: ${PostgresVariable}.",
        };

        var s3Endpoint = new Option<string?>("--s3-endpoint")
        {
            Description = "Write every blob through to this S3-compatible endpoint (with --s3-bucket; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); --root then only caches blobs, so replicas on one --postgres need no shared folder.",
        };
        var s3Bucket = new Option<string?>("--s3-bucket") { Description = "The bucket for --s3-endpoint (it must exist)." };

        var mirror = ServeMirrorOptions.Create();
        var config = new Option<string?>("--config")
        {
            Description = $"Read settings from this JSON file: keys are the option names without dashes ({{\"root\": \"/data\", \"port\": 8787, \"upstream\": \"https://huggingface.co\"}}). The environment ({ServeSettings.EnvironmentPrefix}ROOT, {ServeSettings.EnvironmentPrefix}UPSTREAM_TOKEN, ...) overrides the file, the command line overrides both. Default: ${ServeSettings.EnvironmentPrefix}CONFIG.",
        };

        var command = new Command("serve", "Run a Hub-compatible registry on this machine until Ctrl+C.")
        {
            root, host, port, tokens, chunkSize, postgres, s3Endpoint, s3Bucket, config,
        };
        foreach (var option in mirror.All) command.Options.Add(option);
        command.WithExamples(
            "adapters-hub serve --root ./registry",
            "adapters-hub serve --root ./registry --port 0 --token read:hf_reader --token write:hf_writer",
            "adapters-hub serve --root ./registry -v",
            $"{PostgresVariable}='Host=db;Database=registry;Username=registry;Password=...' adapters-hub serve --root /mnt/shared/registry",
            "adapters-hub serve --root ./cache --postgres 'Host=db;Database=registry' --s3-endpoint https://s3.example.com --s3-bucket adapters",
            "ADAPTERS_SERVE_UPSTREAM_TOKEN=hf_... adapters-hub serve --root ./mirror --upstream https://huggingface.co --mirror-deny 'private-org/**'",
            "adapters-hub serve --config /etc/adapters/serve.json --port 9000",
            "HF_ENDPOINT=http://127.0.0.1:8787 adapters-hub push ./my-adapter me/my-adapter");

        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            var settings = ServeSettings.Load(parseResult, config, command.Options, Environment.GetEnvironmentVariable);
            var accepted = settings.Strings(tokens).Select(AccessToken.Parse).ToList();
            var blobs = (settings.String(s3Endpoint), settings.String(s3Bucket)) switch
            {
                (null, null) => null,
                ({ Length: > 0 } serviceUrl, { Length: > 0 } bucket) => new S3BlobStorageOptions
                {
                    ServiceUrl = Uri.TryCreate(serviceUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                        ? url
                        : throw new ArgumentException($"--s3-endpoint '{serviceUrl}' is not an http(s) URL."),
                    Bucket = bucket,
                    AccessKey = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"),
                    SecretKey = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"),
                    Region = Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } region ? region : "us-east-1",
                },
                _ => throw new ArgumentException("--s3-endpoint and --s3-bucket go together: give both or neither."),
            };
            // -v logs one line per request (method, path, status, time) to standard error, tokens masked.
            using var logging = CliLogging.CreateFactory(parseResult);
            var options = new RegistryServerOptions
            {
                RootDirectory = settings.String(root) is { Length: > 0 } rootFolder ? rootFolder
                    : throw new ArgumentException($"serve needs --root (or {ServeSettings.VariableOf(root)}, or \"root\" in the --config file)."),
                Host = settings.Defaulted(host),
                Port = settings.Int(port),
                Tokens = accepted,
                LfsChunkSize = settings.Long(chunkSize),
                S3Blobs = blobs,
                PostgresConnectionString = settings.String(postgres) is { Length: > 0 } connection ? connection
                    : Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null,
                Mirror = mirror.Read(settings),
                RequestLog = logging?.CreateLogger("serve"),
            };
            var output = parseResult.InvocationConfiguration.Output;
            await using var server = await RegistryServer.StartAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
            var endpoint = server.Endpoint.ToString().TrimEnd('/');
            await output.WriteLineAsync($"Serving the registry in {server.RootDirectory} at {endpoint}").ConfigureAwait(false);
            await output.WriteLineAsync($"Metadata: {server.MetadataDescription}").ConfigureAwait(false);
            if (options.Mirror is { } mirrored) await output.WriteLineAsync($"Mirror of {mirrored.Upstream}{(mirrored.Offline ? " (offline: cached content only)" : "")}; branch names re-resolved after {mirrored.RevisionTtl.TotalSeconds:0} s").ConfigureAwait(false);
            if (blobs is not null) await output.WriteLineAsync($"Blobs: S3 {blobs.ServiceUrl.GetLeftPart(UriPartial.Authority)}/{blobs.Bucket}, cached in {server.RootDirectory}").ConfigureAwait(false);
            await output.WriteLineAsync(accepted.Count == 0
                ? "No --token: the registry is open (anyone who can reach the address may write) until an account exists ('adapters-hub registry create-user')."
                : $"Tokens: {string.Join(", ", accepted)}").ConfigureAwait(false);
            var loopback = options.Host == "localhost" || (System.Net.IPAddress.TryParse(options.Host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
            if (accepted.Count == 0 && !loopback)
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync($"warning: {options.Host} is not a loopback address and no --token was given: anyone who can reach it may write.").ConfigureAwait(false);
            }
            await output.WriteLineAsync($"HF_ENDPOINT={endpoint}").ConfigureAwait(false);
            await output.WriteLineAsync($"Web page: {endpoint}/ (search adapters, model cards, files and usage)").ConfigureAwait(false);
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
