using Adapters.Core.Models.Bert;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Bench.Models;

/// <summary>
/// One optimizer step (forward, backward, Adam) on bert-base, batch 8, seq 128: full fine-tuning as the baseline
/// against training only a LoRA or seq_bn adapter (issue target: adapter step ≤ 0.6× a full step).
/// Run: <c>dotnet run -c Release --project bench/Adapters.Bench -- --filter '*AdapterTrainingStepBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
public class AdapterTrainingStepBenchmarks
{
    private BertModel _model = null!;
    private Tensor _ids = null!;
    private Tensor _target = null!;
    private optim.Optimizer _optimizer = null!;

    [Params("full", "lora", "seq_bn")]
    public string Mode { get; set; } = "full";

    [GlobalSetup]
    public void Setup()
    {
        _model = BertBaseWorkload.CreateModel();
        _ids = BertBaseWorkload.InputIds();
        _target = randn(BertBaseWorkload.Batch, 768);
        if (Mode == "full")
        {
            _model.train();
        }
        else
        {
            _model.AddAdapter("task", Mode);
            _model.TrainAdapter("task");
        }
        _optimizer = optim.Adam(_model.parameters().Where(p => p.requires_grad), lr: 1e-4);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _optimizer.Dispose();
        _target.Dispose();
        _ids.Dispose();
        _model.Dispose();
    }

    [Benchmark]
    public float Step()
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        var pooled = _model.Forward(_ids).PoolerOutput!;
        var loss = nn.functional.mse_loss(pooled, _target);
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }
}
