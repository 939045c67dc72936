using System.Diagnostics;

namespace Adapters.Hub.Cli.Tests.Serve;

/// <summary>
/// The real <c>adapters-hub serve</c> in a child process, for inputs that could take a process down: if the
/// registry dies, the test sees a closed connection and a dead process instead of losing the test host.
/// </summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServeProcess(Process process, Uri endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public bool IsRunning => !_process.HasExited;

    public static Task<ServeProcess> StartAsync(string root, params string[] extra) => StartAsync(root, new Dictionary<string, string>(), extra);

    /// <summary>Starts <c>serve</c> with <paramref name="environment"/> added to this process's variables (e.g. S3 credentials).</summary>
    public static async Task<ServeProcess> StartAsync(string root, IReadOnlyDictionary<string, string> environment, params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "adapters-hub.dll"));
        foreach (var argument in new[] { "serve", "--root", root, "--port", "0" }.Concat(extra)) start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("adapters-hub serve did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("HF_ENDPOINT=", StringComparison.Ordinal))
            {
                // Keep draining its output so the child never blocks on a full pipe.
                _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
                return new ServeProcess(process, new Uri(line["HF_ENDPOINT=".Length..].Trim() + "/"));
            }
        }
        var error = await process.StandardError.ReadToEndAsync(CancellationToken.None);
        process.Dispose();
        throw new InvalidOperationException($"adapters-hub serve printed no HF_ENDPOINT line: {error}");
    }

    /// <summary>Ends the process abruptly, as a crash or an OOM kill would.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
