using static TorchSharp.torch;

namespace Adapters.Core.Generation;

/// <summary>
/// The extension point for prefix tuning on decoders: learned keys and values that every self-attention layer puts
/// in front of the sequence's (and the cache's) keys and values, as Python's <c>PrefixTuningLayer</c> does. The
/// prefix is attended by every query (its mask columns are 0), it does not advance positions (RoPE and learned
/// position embeddings still start at 0), and it is not stored in the <see cref="KeyValueCache"/>, so cached and
/// uncached generation see the same prefix. Decoder models take it through their <c>AttentionPrefix</c> property.
/// </summary>
public interface IAttentionPrefix
{
    /// <summary>The number of prefix positions (P).</summary>
    long Length { get; }

    /// <summary>
    /// Layer <paramref name="layerIndex"/>'s prefix keys and values, each (batch, kv_heads, P, head_dim) in the
    /// model's dtype, or null to give this layer no prefix.
    /// </summary>
    (Tensor Key, Tensor Value)? ForLayer(int layerIndex, long batchSize);
}
