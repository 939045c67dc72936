using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>What an encoder returns: the last hidden states (B, S, H) and, for models with a pooler, the pooled CLS vector (B, H).</summary>
/// <param name="LastHiddenState">The final layer's hidden states.</param>
/// <param name="PoolerOutput">tanh(dense(first token)), or null for models without a pooler.</param>
public sealed record EncoderOutput(Tensor LastHiddenState, Tensor? PoolerOutput);
