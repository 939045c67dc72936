using System.Diagnostics;
using System.Globalization;
using Adapters.Hub;

namespace Adapters.Bench.Hub;

/// <summary>
/// <c>dotnet run -c Release --project bench/Adapters.Bench -- hub-ratio [sizeMiB] [latencyMs]</c>: side-by-side
/// timings on loopback. (1) One LFS file of <c>sizeMiB</c> (default 1024) pulled by <see cref="HubClient"/>
/// with full SHA-256 verification into a fresh cache, against <c>curl -L -o /dev/null</c> on the same resolve
/// URL; ratio = curl time / our time (goal ≥ 0.9). (2) 200 small files by snapshot download with 8
/// parallel transfers against one at a time, with <c>latencyMs</c> (default 20) of simulated round trip per
/// response; ratio = sequential / parallel (goal ≥ 3).
/// </summary>
public static class HubRatioMode
{
    private const int Runs = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMiB = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 1024;
        var latencyMs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
        using var server = new LoopbackHubServer();
        Console.WriteLine($"Generating a {sizeMiB} MiB LFS file and 200 small files...");
        server.AddLfsFile("model.safetensors", sizeMiB << 20);
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var content = new byte[2048 + random.Next(2048)];
            random.NextBytes(content);
            server.AddRegularFile($"shards/part-{i:D3}.json", content);
        }

        var scratch = Directory.CreateTempSubdirectory("adapters-bench-hub-").FullName;
        try
        {
            var curl = Best(Runs, () => RunCurl(server.ResolveUri("model.safetensors"), "/dev/null"));
            var curlToDisk = Best(Runs, () => RunCurl(server.ResolveUri("model.safetensors"), Path.Combine(scratch, "curl.bin")));
            File.Delete(Path.Combine(scratch, "curl.bin"));
            var ours = await BestAsync(Runs, async () =>
            {
                var cache = FreshCache(scratch);
                using var hub = new HubClient(Options(server, cache));
                var watch = Stopwatch.StartNew();
                await hub.Files.DownloadFileAsync(server.RepoId, "model.safetensors");
                return watch.Elapsed;
            });
            var cdnUrl = await CdnUrlAsync(server);
            var rawReceive = await BestAsync(Runs, () => ReceiveAsync(cdnUrl, hash: false));
            var receiveAndHash = await BestAsync(Runs, () => ReceiveAsync(cdnUrl, hash: true));
            Report($"LFS {sizeMiB} MiB, curl -o /dev/null", curl, sizeMiB);
            Report("  for reference: curl -o <file in the cache's folder>", curlToDisk, sizeMiB);
            Report("  breakdown: HttpClient body to Stream.Null", rawReceive, sizeMiB);
            Report("  breakdown: HttpClient body + SHA-256, no disk", receiveAndHash, sizeMiB);
            Report($"LFS {sizeMiB} MiB, HubClient (SHA-256 verified, to disk)", ours, sizeMiB);
            Console.WriteLine($"ratio (curl -o /dev/null time / HubClient time): {curl / ours:0.00}  (goal >= 0.90)");
            Console.WriteLine($"ratio (curl -o file time / HubClient time):      {curlToDisk / ours:0.00}");

            server.Latency = TimeSpan.FromMilliseconds(latencyMs);
            var sequential = await BestAsync(1, () => SnapshotAsync(server, scratch, 1));
            var parallel = await BestAsync(Runs, () => SnapshotAsync(server, scratch, 8));
            Console.WriteLine($"200 small files, {latencyMs} ms simulated round trip: sequential {sequential.TotalSeconds:0.000} s, 8 parallel {parallel.TotalSeconds:0.000} s");
            Console.WriteLine($"ratio (sequential / parallel): {sequential / parallel:0.00}  (goal >= 3.00)");
            return 0;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static async Task<Uri> CdnUrlAsync(LoopbackHubServer server)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, server.ResolveUri("model.safetensors")));
        return head.Headers.Location ?? throw new InvalidOperationException("the resolve URL did not redirect");
    }

    /// <summary>Where the time goes: the same GET through a bare HttpClient, optionally hashing, never writing.</summary>
    private static async Task<TimeSpan> ReceiveAsync(Uri url, bool hash)
    {
        using var http = new HttpClient();
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        var watch = Stopwatch.StartNew();
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            if (hash) sha.AppendData(buffer, 0, read);
        }
        return watch.Elapsed;
    }

    private static async Task<TimeSpan> SnapshotAsync(LoopbackHubServer server, string scratch, int concurrency)
    {
        var cache = FreshCache(scratch);
        using var hub = new HubClient(Options(server, cache));
        var watch = Stopwatch.StartNew();
        var snapshot = await hub.Files.SnapshotDownloadAsync(server.RepoId, allowPatterns: ["shards/*"], maxConcurrency: concurrency);
        if (snapshot.Files.Count != 200) throw new InvalidOperationException($"expected 200 files, got {snapshot.Files.Count}");
        return watch.Elapsed;
    }

    private static HubClientOptions Options(LoopbackHubServer server, string cache) => new()
    {
        Endpoint = server.Endpoint,
        CacheDirectory = cache,
        Token = null,
        ReadTimeout = TimeSpan.FromSeconds(30),
    };

    private static string FreshCache(string scratch)
    {
        foreach (var old in Directory.EnumerateDirectories(scratch)) Directory.Delete(old, recursive: true);
        return Directory.CreateDirectory(Path.Combine(scratch, Guid.NewGuid().ToString("N"))).FullName;
    }

    private static TimeSpan RunCurl(Uri url, string target)
    {
        var start = new ProcessStartInfo("curl", ["-s", "-L", "-o", target, url.ToString()]) { UseShellExecute = false };
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("curl could not be started");
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"curl exited with {process.ExitCode}");
        return watch.Elapsed;
    }

    private static TimeSpan Best(int runs, Func<TimeSpan> run) => Enumerable.Range(0, runs).Select(_ => run()).Min();

    private static async Task<TimeSpan> BestAsync(int runs, Func<Task<TimeSpan>> run)
    {
        var best = TimeSpan.MaxValue;
        for (var i = 0; i < runs; i++)
        {
            var elapsed = await run();
            if (elapsed < best) best = elapsed;
        }
        return best;
    }

    private static void Report(string label, TimeSpan elapsed, long sizeMiB) =>
        Console.WriteLine($"{label,-52} {elapsed.TotalSeconds,7:0.000} s  {sizeMiB / elapsed.TotalSeconds,8:0.0} MiB/s");
}
