using Adapters.Core;
using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace Adapters.Bench;

/// <summary>A baseline for the native backend: a small matmul through TorchSharp.</summary>
[MemoryDiagnoser]
public class TorchStartupBenchmarks
{
    private Tensor _a = null!;
    private Tensor _b = null!;

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.Initialize();
        _a = randn(256, 256);
        _b = randn(256, 256);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Benchmark]
    public float Matmul256()
    {
        using var product = matmul(_a, _b);
        return product[0, 0].item<float>();
    }
}
