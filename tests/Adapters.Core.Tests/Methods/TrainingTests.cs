using Adapters.Core.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

public sealed class TrainingTests
{
    [Theory]
    [InlineData("lora[attn_matrices=['q','k','v']]")]
    [InlineData("seq_bn")]
    [InlineData("ia3")]
    [InlineData("compacter++[reduction_factor=4]")]
    public void A_few_training_steps_lower_the_loss_and_leave_base_weights_bit_identical(string config)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var baseWeights = TinyModels.CloneState(model);
        model.AddAdapter("task", config);
        model.TrainAdapter("task");
        var trainable = model.parameters().Where(p => p.requires_grad).ToArray();
        Assert.All(trainable, p => Assert.Contains(p, model.AdapterParameters("task").Select(a => a.Parameter)));
        Assert.NotEmpty(trainable);

        var ids = TinyModels.InputIds(batch: 4, length: 8);
        manual_seed(5);
        var target = randn(4, 32);
        using var optimizer = optim.Adam(trainable, lr: 1e-2);
        var losses = new List<float>();
        for (var step = 0; step < 8; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var pooled = model.Forward(ids).PoolerOutput!;
            var loss = nn.functional.mse_loss(pooled, target);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        Assert.True(losses[^1] < losses[0], string.Join(", ", losses));
        foreach (var (key, value) in baseWeights)
            Assert.True(TinyModels.Same(value, model.state_dict()[key]), key);
    }

    [Fact]
    public void Repeated_forward_backward_steps_do_not_accumulate_tensors()
    {
        using var model = TinyModels.Bert();
        model.AddAdapter("task", "lora");
        model.TrainAdapter("task");
        var ids = TinyModels.InputIds();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var step = 0; step < 50; step++)
        {
            using var scope = NewDisposeScope();
            var loss = model.Forward(ids).LastHiddenState.pow(2).mean();
            loss.backward();
        }
        foreach (var p in model.parameters()) p.grad?.Dispose();

        Assert.InRange(DisposeScopeManager.Statistics.ThreadTotalLiveCount - before, -1000, 50);
    }
}
