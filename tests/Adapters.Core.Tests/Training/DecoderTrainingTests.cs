using Adapters.Core.Generation;
using Adapters.Core.Tests.Models;
using Adapters.Core.Training;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Training;

/// <summary>Causal-LM training of decoder adapters through <see cref="AdapterTrainer{TBatch}"/>.</summary>
public sealed class DecoderTrainingTests
{
    [Theory]
    [InlineData("llama", "lora[r=4, alpha=8, attn_matrices=['q','k','v'], intermediate_lora=True]", 2 * (3 * (4 * 32 + 4 * 32) - 2 * 4 * 16 + 4 * 48 + 4 * 32), 0.3)]
    [InlineData("llama", "prefix_tuning[prefix_length=4, bottleneck_size=8]", 4 * 32 + (32 * 8 + 8) + (8 * 128 + 128), 0.15)]
    // Four prompt vectors move a random tiny model little, but steadily.
    [InlineData("llama", "prompt_tuning[prompt_length=4]", 4 * 32, 0.05)]
    public void Adapter_training_lowers_the_causal_lm_loss_and_leaves_the_base_untouched(string modelType, string method, long trainable, double minimumDrop)
    {
        using var scope = NewDisposeScope();
        var model = DecoderAdapterMethodTests.Create(modelType, seed: 7);
        var adapters = model.BaseModel;
        adapters.AddAdapter("task", method);
        adapters.TrainAdapter("task");
        var frozen = adapters.named_parameters().Where(p => !p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.detach().clone());
        // A fixed sequence to memorise: next-token prediction on a repeating pattern.
        using var ids = tensor(new long[,] { { 5, 9, 13, 17, 21, 5, 9, 13, 17, 21, 5, 9 }, { 30, 31, 32, 33, 34, 30, 31, 32, 33, 34, 30, 31 } });
        var options = new AdapterTrainerOptions { LearningRate = 5e-2, MaxSteps = 40, Schedule = LearningRateSchedule.Constant };
        using var trainer = new AdapterTrainer<Tensor>(adapters, ["task"], batch => model.Forward(batch, labels: batch).Loss!, options);

        var result = trainer.Train([ids]);

        Assert.Equal(trainable, trainer.TrainableParameterCount);
        // The tiny model starts near ln(61) ≈ 4.11 with small logits (init std 0.02); a clear, steady drop is the signal.
        Assert.True(result.Losses.TakeLast(3).Average() < result.Losses[0] - minimumDrop, string.Join(", ", result.Losses));
        foreach (var (name, before) in frozen)
            Assert.True(TinyModels.Same(before, adapters.named_parameters().First(p => p.name == name).parameter), name);
        ((nn.Module)model).Dispose();
    }
}
