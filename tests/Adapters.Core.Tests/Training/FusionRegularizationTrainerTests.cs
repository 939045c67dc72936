using Adapters.Core.Composition;
using Adapters.Core.Methods.Fusion;
using Adapters.Core.Tests.Models;
using Adapters.Core.Training;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Training;

/// <summary>The trainer adds the fusion regularisation (0.01·Σ‖I − V‖²) every step, as Python's AdapterTrainer does.</summary>
public sealed class FusionRegularizationTrainerTests
{
    [Fact]
    public void Training_a_fusion_pulls_its_value_matrices_towards_identity_even_when_the_task_loss_gives_no_gradient()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("a", "seq_bn");
        model.AddAdapter("b", "seq_bn");
        // Random values (not the near-identity init) so that the regularisation has something to pull.
        model.AddAdapterFusion(new Fuse("a", "b"), AdapterFusionConfig.Dynamic with { ValueInitialized = false });
        model.TrainAdapterFusion(new Fuse("a", "b"));
        var ids = TinyModels.InputIds();
        var before = model.GetFusionRegularizationLoss()!.item<float>();

        var options = new AdapterTrainerOptions { LearningRate = 1e-2, MaxSteps = 5, MaxGradNorm = null, Schedule = LearningRateSchedule.Constant };
        using var trainer = new AdapterTrainer<Tensor>(model, ["a", "b"], batch => model.Forward(batch).LastHiddenState.sum() * 0.0, options);
        trainer.Train([ids]);

        var after = model.GetFusionRegularizationLoss()!.item<float>();
        Assert.True(after < before * 0.99, $"regularisation {before} -> {after}");
    }
}
