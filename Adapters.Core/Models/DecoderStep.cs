using Adapters.Core.Generation;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>
/// What every decoder layer of one forward pass shares: rotary cos/sin (Llama family), the additive masks per
/// sliding window, the cache to extend and the attention prefix to put in front. Keeping these in one object is
/// what lets prefix tuning plug in without touching the layers again.
/// </summary>
internal sealed class DecoderStep
{
    private readonly Func<int, Tensor?> _maskFor;

    public DecoderStep(KeyValueCache? cache, IAttentionPrefix? prefix, Func<int, Tensor?> maskFor, Tensor? cos = null, Tensor? sin = null)
    {
        Cache = cache;
        Prefix = prefix;
        _maskFor = maskFor;
        Cos = cos;
        Sin = sin;
        Past = cache?.Length ?? 0;
    }

    /// <summary>The number of cached tokens before this step (read before any layer extends the cache).</summary>
    public long Past { get; }

    public KeyValueCache? Cache { get; }
    public IAttentionPrefix? Prefix { get; }

    /// <summary>The active Llama-Adapter (PEFT adaption prompt), which adds gated prompt attention to its layers' outputs; null for none.</summary>
    public Peft.PromptLearning.AdaptionPromptAdapter? AdaptionPrompt { get; init; }
    public Tensor? Cos { get; }
    public Tensor? Sin { get; }

    /// <summary>
    /// <paramref name="mask"/> expanded to <paramref name="batch"/> rows (masks without padding are built for one row),
    /// so that prefix tuning can put per-example columns in front; null stays null.
    /// </summary>
    public static Tensor? PerBatch(Tensor? mask, long batch) =>
        mask is null || mask.shape[0] == batch ? mask : mask.expand(batch, -1, -1, -1);

    /// <summary>The additive mask for layer <paramref name="layer"/>, or null when nothing is masked.</summary>
    public Tensor? MaskFor(int layer) => _maskFor(layer);

    /// <summary>
    /// The keys and values layer <paramref name="layer"/> attends over: the cache (extended by this step's
    /// <paramref name="key"/>/<paramref name="value"/>) and, in front, the prefix.
    /// </summary>
    public (Tensor Key, Tensor Value) Attend(int layer, Tensor key, Tensor value)
    {
        if (Cache is not null) (key, value) = Cache.Append(layer, key, value);
        if (Prefix?.ForLayer(layer, key.shape[0]) is var (prefixKey, prefixValue))
        {
            key = cat([prefixKey.to(key.dtype), key], 2);
            value = cat([prefixValue.to(value.dtype), value], 2);
        }
        return (key, value);
    }
}
