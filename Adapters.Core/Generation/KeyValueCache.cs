using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Generation;

/// <summary>
/// The past keys and values of every decoder layer (transformers' <c>past_key_values</c>), each of shape
/// (batch, kv_heads, cached_tokens, head_dim). A forward pass given a cache attends over the cached tokens and
/// appends its own. The cache owns its tensors: dispose it when generation ends.
/// </summary>
public sealed class KeyValueCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;

    /// <summary>Creates an empty cache for <paramref name="layerCount"/> layers.</summary>
    public KeyValueCache(int layerCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        _keys = new Tensor?[layerCount];
        _values = new Tensor?[layerCount];
    }

    /// <summary>The number of layers.</summary>
    public int LayerCount => _keys.Length;

    /// <summary>
    /// How many positions are cached (the position of the next token): prompt-tuning positions included, prefix-tuning
    /// entries not (prefixes are put in front again at every step, as Python does after its cache update).
    /// </summary>
    public long Length => _keys[0] is { } k ? k.shape[2] : 0;

    /// <summary>
    /// How many of the first cached positions hold a prompt-tuning prompt rather than input tokens; the model sets it on
    /// the step that fills an empty cache. <see cref="Length"/> minus this is the number of input tokens consumed.
    /// </summary>
    public long PromptLength { get; set; }

    /// <summary>
    /// Appends this step's keys and values for layer <paramref name="layer"/> and returns the layer's full keys and
    /// values. The returned tensors belong to the cache and stay valid until the next append or disposal.
    /// </summary>
    public (Tensor Key, Tensor Value) Append(int layer, Tensor key, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var oldKey = _keys[layer];
        var oldValue = _values[layer];
        var newKey = (oldKey is null ? key.detach().clone() : cat([oldKey, key.detach()], 2)).DetachFromDisposeScope();
        var newValue = (oldValue is null ? value.detach().clone() : cat([oldValue, value.detach()], 2)).DetachFromDisposeScope();
        oldKey?.Dispose();
        oldValue?.Dispose();
        _keys[layer] = newKey;
        _values[layer] = newValue;
        return (newKey, newValue);
    }

    /// <summary>Layer <paramref name="layer"/>'s cached keys and values, or null when nothing is cached.</summary>
    public (Tensor Key, Tensor Value)? Get(int layer) =>
        _keys[layer] is { } k && _values[layer] is { } v ? (k, v) : null;

    /// <summary>Frees every cached tensor.</summary>
    public void Dispose()
    {
        PromptLength = 0;
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keys[i] = null;
            _values[i] = null;
        }
    }
}
