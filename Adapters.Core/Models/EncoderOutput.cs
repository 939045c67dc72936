using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>What an encoder returns: the last hidden states (B, S, H) and, for models with a pooler, the pooled CLS vector (B, H).</summary>
/// <param name="LastHiddenState">The final layer's hidden states.</param>
/// <param name="PoolerOutput">tanh(dense(first token)), or null for models without a pooler.</param>
/// <param name="ClsOutput">
/// The vector (B, H) classification heads read without a pooler (Python's <c>cls_output</c>): a decoder's last
/// non-padding token; null means the first token of <paramref name="LastHiddenState"/>.
/// </param>
public sealed record EncoderOutput(Tensor LastHiddenState, Tensor? PoolerOutput, Tensor? ClsOutput = null)
{
    /// <summary>
    /// Fusion attentions and gating scores of the pass when the model asked for them
    /// (<c>Setup.OutputFusionAttentions</c>, <c>Setup.OutputGatingScores</c>), else null.
    /// </summary>
    public Methods.AdapterForwardOutputs? AdapterOutputs { get; init; }
}
