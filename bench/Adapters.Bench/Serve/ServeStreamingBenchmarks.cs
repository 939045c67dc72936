using BenchmarkDotNet.Attributes;

namespace Adapters.Bench.Serve;

/// <summary>
/// <c>curl</c> downloading a 1 GiB LFS file from <c>adapters-hub serve</c> (resolve, 302, blob route) against
/// the same file from a plain Kestrel static file server (the baseline); BenchmarkDotNet's Ratio column
/// is the comparison (goal: serve within 1/0.9 of the baseline's time).
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class ServeStreamingBenchmarks
{
    private ServeStreamingSetup? _setup;

    [GlobalSetup]
    public void Setup() => _setup = ServeStreamingSetup.CreateAsync(1L << 30).GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _setup?.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public Task<double> StaticKestrel() => _setup!.CurlAsync(_setup.StaticUrl);

    [Benchmark]
    public Task<double> Serve() => _setup!.CurlAsync(_setup.ServeUrl);
}
