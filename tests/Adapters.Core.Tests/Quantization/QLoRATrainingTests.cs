using Adapters.Core.Quantization;
using Adapters.Core.Tests.Models;
using Adapters.Core.Training;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Quantization;

/// <summary>QLoRA-style training: adapters train on an NF4 base through <see cref="AdapterTrainer{TBatch}"/>.</summary>
public sealed class QLoRATrainingTests
{
    [Theory]
    [InlineData("lora[r=4, alpha=8, attn_matrices=['q','k','v'], intermediate_lora=True]", 0.3)]
    [InlineData("seq_bn[reduction_factor=4]", 0.3)]
    [InlineData("prefix_tuning[prefix_length=4, bottleneck_size=8]", 0.15)]
    public void Adapters_train_on_an_nf4_base_with_optimizer_state_on_adapter_parameters_only(string method, double minimumDrop)
    {
        using var scope = NewDisposeScope();
        var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig(), seed: 7);
        var adapters = model.Model;
        Assert.Equal(14, adapters.QuantizeBaseWeights(FourBitOptions.Nf4));
        adapters.AddAdapter("task", method);
        adapters.TrainAdapter("task");
        var packed = adapters.BaseLinears().ToDictionary(l => l.Path, l => (Bytes: l.Linear.weight.clone(), Absmax: l.Linear.QuantState!.Absmax.clone()));
        using var ids = tensor(new long[,] { { 5, 9, 13, 17, 21, 5, 9, 13, 17, 21, 5, 9 }, { 30, 31, 32, 33, 34, 30, 31, 32, 33, 34, 30, 31 } });
        var options = new AdapterTrainerOptions { LearningRate = 5e-2, MaxSteps = 40, Schedule = LearningRateSchedule.Constant };
        using var trainer = new AdapterTrainer<Tensor>(adapters, ["task"], batch => model.Forward(batch, labels: batch).Loss!, options);

        var result = trainer.Train([ids]);

        Assert.True(result.Losses.TakeLast(3).Average() < result.Losses[0] - minimumDrop, string.Join(", ", result.Losses));
        // The optimizer holds exactly the adapter's parameters: no base weight, packed or dense, has state.
        var adapterParameters = adapters.AdapterParameters("task").Select(p => (object)p.Parameter).ToHashSet(ReferenceEqualityComparer.Instance);
        Assert.Equal(adapterParameters.Count, trainer.OptimizedParameters.Count);
        Assert.All(trainer.OptimizedParameters, p => Assert.Contains(p, adapterParameters));
        foreach (var (path, linear) in adapters.BaseLinears())
        {
            Assert.False(linear.weight.requires_grad, path);
            Assert.Null(linear.weight.grad);
            Assert.True(TinyModels.Same(packed[path].Bytes, linear.weight), path);
            Assert.True(TinyModels.Same(packed[path].Absmax, linear.QuantState!.Absmax), path);
        }
        ((nn.Module)model).Dispose();
    }

    [Fact]
    public void Unfreezing_a_4bit_model_leaves_packed_weights_frozen()
    {
        using var scope = NewDisposeScope();
        var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        model.Model.QuantizeBaseWeights(FourBitOptions.Nf4);
        model.Model.FreezeModel(false);
        Assert.All(model.Model.BaseLinears(), l => Assert.False(l.Linear.weight.requires_grad));
        Assert.True(model.Model.BaseLinears()[0].Linear.bias is null || model.Model.BaseLinears()[0].Linear.bias!.requires_grad);
        ((nn.Module)model).Dispose();
    }
}
