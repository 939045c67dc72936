using static TorchSharp.torch;

namespace Adapters.Core.Methods.PrefixTuning;

/// <summary>
/// What an attention module calls to let prefix tuning extend its keys and values (Python's
/// <c>PrefixTuningLayer.forward(key_states, value_states, residual_input, attention_mask, invert_mask)</c>). Call it after
/// splitting heads and before the score product. Decoder models call it after the key/value cache update on every step,
/// as Python does: the cache never holds prefixes, and prefix keys are not rotated (RoPE) and not repeated for GQA.
/// </summary>
public interface IAttentionPrefixHook
{
    /// <summary>
    /// Prepends the active prefixes as the setup composes them (<c>Stack(a, b)</c> gives <c>[P_b, P_a, K]</c>; BatchSplit
    /// and Parallel give each child's rows that child's prefix). A Parallel setup may return more rows than were passed
    /// (the batch replicated once per child): repeat the queries to the returned keys' rows, as Python's
    /// <c>adjust_tensors_for_parallel(key_states, query_states)</c> does.
    /// </summary>
    /// <param name="keys">Keys (B, heads, S, dim).</param>
    /// <param name="values">Values (B, heads, S, dim).</param>
    /// <param name="attentionMask">The mask whose last axis indexes key positions: (B, S) or (B, 1, Q, S); or null.</param>
    /// <param name="additiveMask">
    /// True when the mask is additive (0 = attend; Python's <c>invert_mask=True</c>), so prefix positions get 0; false when
    /// 1 means attend, so they get 1.
    /// </param>
    /// <param name="attentionInput">The attention block's input hidden states (B, S, H), read by prefix gates.</param>
    /// <returns>The inputs unchanged when no prefix is active at this layer.</returns>
    PrefixedAttention Apply(Tensor keys, Tensor values, Tensor? attentionMask, bool additiveMask, Tensor attentionInput);
}
