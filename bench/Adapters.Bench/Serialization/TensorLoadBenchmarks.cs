using System.Diagnostics;
using Adapters.Core;
using Adapters.Core.Serialization;
using Adapters.Core.Serialization.Pickle;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Adapters.Bench.Serialization;

/// <summary>
/// Loading 1 GiB of tensors into TorchSharp: safetensors and a torch zip pickle of the same tensors, against
/// <c>cat file &gt; /dev/null</c> on a warm page cache (the baseline; the Ratio column is time / cat's time, so
/// the goals are safetensors ≤ 1.25 and pickle ≤ 1.5 × safetensors).
/// Run: <c>dotnet run -c Release --project bench/Adapters.Bench -- --filter '*TensorLoad*'</c>.
/// </summary>
[Config(typeof(InProcessMonitoring))]
public class TensorLoadBenchmarks
{
    /// <summary>
    /// In-process (BenchmarkDotNet's generated child project would lack the patched native backend), one
    /// invocation per iteration: each load is a whole gigabyte.
    /// </summary>
    private sealed class InProcessMonitoring : ManualConfig
    {
        public InProcessMonitoring() => AddJob(Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(15)
            .WithToolchain(InProcessEmitToolchain.Instance));
    }

    private const long TotalBytes = 1L << 30;
    private const int TensorCount = 64;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "adapters-bench-tensors");
    private string _safetensors = "";
    private string _pickle = "";
    private StateDict? _loaded;

    /// <summary>Writes the two files once (seeded random float32 weights, 64 tensors of 16 MiB) and warms the cache.</summary>
    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.Initialize();
        Directory.CreateDirectory(_directory);
        _safetensors = Path.Combine(_directory, "model.safetensors");
        _pickle = Path.Combine(_directory, "pytorch_model.bin");
        if (!File.Exists(_safetensors) || new FileInfo(_safetensors).Length < TotalBytes) SafeTensorsWriter.Save(_safetensors, Payloads(), SafeTensorsWriter.DefaultMetadata);
        if (!File.Exists(_pickle) || new FileInfo(_pickle).Length < TotalBytes) TorchPickleWriter.Save(_pickle, Payloads());
        Cat(_safetensors);
        Cat(_pickle);
    }

    private static IEnumerable<TensorPayload> Payloads()
    {
        const long each = TotalBytes / TensorCount;
        return Enumerable.Range(0, TensorCount).Select(i => TensorPayload.Create(
            new TensorSpec($"model.layers.{i}.weight", TensorDType.F32, [each / 4 / 1024, 1024]),
            sink =>
            {
                var buffer = new byte[1 << 20];
                new Random(i).NextBytes(buffer);
                for (long done = 0; done < each; done += buffer.Length) sink(buffer);
            }));
    }

    /// <summary>Reads the safetensors file through the page cache and throws it away.</summary>
    [Benchmark(Baseline = true, Description = "cat model.safetensors > /dev/null")]
    public void CatSafetensors() => Cat(_safetensors);

    /// <summary>Every tensor of the safetensors file in TorchSharp.</summary>
    [Benchmark(Description = "safetensors → TorchSharp")]
    public int LoadSafetensors()
    {
        _loaded = TensorFiles.Load(_safetensors);
        return _loaded.Count;
    }

    /// <summary>Every tensor of the torch zip pickle in TorchSharp.</summary>
    [Benchmark(Description = "torch zip pickle → TorchSharp")]
    public int LoadPickle()
    {
        _loaded = TensorFiles.Load(_pickle);
        return _loaded.Count;
    }

    /// <summary>Frees the loaded tensors outside the measurement.</summary>
    [IterationCleanup]
    public void Release()
    {
        _loaded?.Dispose();
        _loaded = null;
    }

    private static void Cat(string path)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"cat '{path}' > /dev/null"]) { UseShellExecute = false })!;
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"cat {path} failed");
    }
}
