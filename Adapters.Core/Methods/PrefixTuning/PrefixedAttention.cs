using static TorchSharp.torch;

namespace Adapters.Core.Methods.PrefixTuning;

/// <summary>Keys and values (B, heads, prefix + S, dim) with prefixes prepended, and the attention mask widened to match.</summary>
/// <param name="Keys">Keys with prefix keys in front.</param>
/// <param name="Values">Values with prefix values in front.</param>
/// <param name="AttentionMask">The mask with the prefix positions attended in front of the last axis, or null when none was given.</param>
public readonly record struct PrefixedAttention(Tensor Keys, Tensor Values, Tensor? AttentionMask);
