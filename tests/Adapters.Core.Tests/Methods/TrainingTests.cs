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
    public void A_thousand_forward_backward_steps_leave_no_tensors_behind_and_native_memory_flat()
    {
        using var model = TinyModels.Bert();
        model.AddAdapter("task", "lora");
        model.TrainAdapter("task");
        var ids = TinyModels.InputIds();
        void Step()
        {
            using var scope = NewDisposeScope();
            var loss = model.Forward(ids).LastHiddenState.pow(2).mean();
            loss.backward();
        }

        // Warm up so allocator pools and gradients exist before measuring.
        for (var step = 0; step < 100; step++) Step();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        process.Refresh();
        var rssBefore = process.WorkingSet64;
        for (var step = 0; step < 1000; step++) Step();
        process.Refresh();
        var rssGrowth = process.WorkingSet64 - rssBefore;
        foreach (var p in model.parameters()) p.grad?.Dispose();

        Assert.InRange(DisposeScopeManager.Statistics.ThreadTotalLiveCount - before, -1000, 50);
        // A leak of one activation per step would be ~1000 × (2·6·32 floats) plus graph nodes; far above this bound
        // it would show as tens of MB. Allow for allocator noise only.
        Assert.True(rssGrowth < 48L * 1024 * 1024, $"resident memory grew by {rssGrowth / (1024 * 1024)} MiB over 1,000 steps");
    }
}
