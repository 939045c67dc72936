using Adapters.Hub;
using BenchmarkDotNet.Attributes;

namespace Adapters.Bench.Hub;

/// <summary>
/// BenchmarkDotNet view of the download path on loopback: one 256 MiB LFS file (verified) and a
/// 200-file snapshot sequential vs parallel. The side-by-side ratios against curl are in <see cref="HubRatioMode"/>.
/// </summary>
[MemoryDiagnoser]
public class HubDownloadBenchmarks
{
    private LoopbackHubServer _server = null!;
    private string _scratch = null!;

    [Params(1, 8)]
    public int Concurrency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _server = new LoopbackHubServer { Latency = TimeSpan.FromMilliseconds(5) };
        _server.AddLfsFile("model.safetensors", 256L << 20);
        var random = new Random(3);
        for (var i = 0; i < 200; i++)
        {
            var content = new byte[2048];
            random.NextBytes(content);
            _server.AddRegularFile($"shards/part-{i:D3}.json", content);
        }
        _scratch = Directory.CreateTempSubdirectory("adapters-bench-hubdl-").FullName;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _server.Dispose();
        Directory.Delete(_scratch, recursive: true);
    }

    [IterationSetup]
    public void ClearCache()
    {
        foreach (var folder in Directory.EnumerateDirectories(_scratch)) Directory.Delete(folder, recursive: true);
    }

    private HubClient Client() => new(new HubClientOptions { Endpoint = _server.Endpoint, CacheDirectory = Path.Combine(_scratch, "cache"), ReadTimeout = TimeSpan.FromSeconds(30) });

    [Benchmark]
    public async Task<string> LfsFile256MiB()
    {
        using var hub = Client();
        return await hub.Files.DownloadFileAsync(_server.RepoId, "model.safetensors");
    }

    [Benchmark]
    public async Task<int> SmallFiles200()
    {
        using var hub = Client();
        var snapshot = await hub.Files.SnapshotDownloadAsync(_server.RepoId, allowPatterns: ["shards/*"], maxConcurrency: Concurrency);
        return snapshot.Files.Count;
    }
}
