using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Generation;

/// <summary>transformers' causal-LM loss: logits at position t predict label t+1; label -100 is ignored.</summary>
public static class CausalLMLoss
{
    /// <summary>The mean cross-entropy of <paramref name="logits"/> (B, S, V) against <paramref name="labels"/> (B, S) shifted by one.</summary>
    public static Tensor Compute(Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = NewDisposeScope();
        var length = logits.shape[1];
        var shiftedLogits = logits.narrow(1, 0, length - 1).to(ScalarType.Float32).reshape(-1, logits.shape[^1]);
        var shiftedLabels = labels.narrow(1, 1, length - 1).reshape(-1).to(ScalarType.Int64);
        return nn.functional.cross_entropy(shiftedLogits, shiftedLabels, ignore_index: -100).MoveToOuterDisposeScope();
    }
}
