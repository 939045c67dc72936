using Adapters.Core.Models.Bert;
using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace Adapters.Bench.Models;

/// <summary>
/// Inference cost of adapters on bert-base (batch 8, seq 128, CPU), with the plain model as the baseline so the
/// Ratio column gives the targets: merged LoRA ≈ 1.00×, unmerged LoRA r=8 ≤ 1.10×, seq_bn ≤ 1.10×.
/// Run: <c>dotnet run -c Release --project bench/Adapters.Bench -- --filter '*AdapterForwardBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
public class AdapterForwardBenchmarks
{
    private BertModel _model = null!;
    private Tensor _ids = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = BertBaseWorkload.CreateModel();
        _ids = BertBaseWorkload.InputIds();
        _model.AddAdapter("lora", "lora[init_weights='bert']");
        _model.AddAdapter("seq_bn", "seq_bn");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ids.Dispose();
        _model.Dispose();
    }

    [Benchmark(Baseline = true)]
    public float Base() => Run();

    [Benchmark]
    public float LoRAUnmerged()
    {
        _model.SetActiveAdapters("lora");
        return Run();
    }

    [Benchmark]
    public float LoRAMerged()
    {
        _model.SetActiveAdapters("lora");
        _model.MergeAdapter("lora");
        try
        {
            return Run();
        }
        finally
        {
            _model.ResetAdapter();
        }
    }

    [Benchmark]
    public float SeqBn()
    {
        _model.SetActiveAdapters("seq_bn");
        return Run();
    }

    [IterationCleanup]
    public void Deactivate() => _model.SetActiveAdapters();

    private float Run()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return _model.Forward(_ids).LastHiddenState[0, 0, 0].item<float>();
    }
}
