using static TorchSharp.torch;

namespace Adapters.Core.Generation;

/// <summary>The result of a causal language model's forward pass.</summary>
/// <param name="Logits">(batch, sequence, vocab) next-token scores.</param>
/// <param name="HiddenStates">(batch, sequence, hidden) final hidden states (after the final norm).</param>
/// <param name="Loss">The shifted next-token cross-entropy when labels were given, else null.</param>
public sealed record CausalLMOutput(Tensor Logits, Tensor HiddenStates, Tensor? Loss)
{
    /// <summary>
    /// Fusion attentions and gating scores of the pass when the model asked for them
    /// (<c>Setup.OutputFusionAttentions</c>, <c>Setup.OutputGatingScores</c>), else null.
    /// </summary>
    public Methods.AdapterForwardOutputs? AdapterOutputs { get; init; }
}
