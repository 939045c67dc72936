using System.Diagnostics;
using Adapters.Hub;
using Adapters.Hub.Upload;

namespace Adapters.Bench.Upload;

/// <summary>
/// <c>ratio upload [MiB]</c>: a 1 GiB LFS commit through our client (SHA-256 once, preupload, batch, PUT,
/// commit) against <c>curl -T</c> of the same file to the same loopback server. Ratio = curl time / our time.
/// </summary>
public sealed class UploadRatio : IRatioRun
{
    /// <inheritdoc />
    public string Name => "upload";

    /// <inheritdoc />
    public async Task RunAsync(string[] args)
    {
        var mebibytes = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1024;
        var path = Path.Combine(Path.GetTempPath(), $"adapters-upload-bench-{mebibytes}m.bin");
        if (!File.Exists(path) || new FileInfo(path).Length != mebibytes * (1L << 20))
        {
            var block = new byte[1 << 20];
            Random.Shared.NextBytes(block);
            await using var file = File.Create(path);
            for (var i = 0; i < mebibytes; i++) await file.WriteAsync(block).ConfigureAwait(false);
        }
        await using var server = await LfsSinkServer.StartAsync().ConfigureAwait(false);
        await TimeCurlAsync(server.Url, path).ConfigureAwait(false); // warm the page cache and the server

        var curl = new List<double>();
        var ours = new List<double>();
        for (var run = 0; run < 3; run++)
        {
            curl.Add(await TimeCurlAsync(server.Url, path).ConfigureAwait(false));
            ours.Add(await TimeOursAsync(server.Url, path).ConfigureAwait(false));
        }
        var bestCurl = curl.Min();
        var bestOurs = ours.Min();
        Console.WriteLine($"upload {mebibytes} MiB over loopback: curl -T {bestCurl:F3} s, adapters-hub commit {bestOurs:F3} s (hash + preupload + PUT + commit)");
        Console.WriteLine($"ratio (curl / ours, goal >= 0.9): {bestCurl / bestOurs:F2}");
    }

    private static async Task<double> TimeOursAsync(string url, string path)
    {
        using var hub = new HubClient(new HubClientOptions { Endpoint = new Uri(url), Token = "hf_bench", CacheDirectory = Path.GetTempPath() });
        var watch = Stopwatch.StartNew();
        await hub.Commits.CreateCommitAsync("bench/upload", [CommitOperation.AddFile("big.bin", path)], "bench").ConfigureAwait(false);
        return watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> TimeCurlAsync(string url, string path)
    {
        var watch = Stopwatch.StartNew();
        using var curl = Process.Start(new ProcessStartInfo("curl", ["-s", "-o", "/dev/null", "-T", path, url + "/raw"]) { RedirectStandardOutput = true })!;
        await curl.WaitForExitAsync().ConfigureAwait(false);
        if (curl.ExitCode != 0) throw new InvalidOperationException($"curl exited with {curl.ExitCode}");
        return watch.Elapsed.TotalSeconds;
    }
}
