using static TorchSharp.torch;

namespace Adapters.Core.Generation;

/// <summary>
/// Builds the additive attention mask of a decoder step: causal, optionally limited to a sliding window (Mistral,
/// Qwen2), with padded key positions removed, and with attended prefix columns in front (prefix tuning).
/// </summary>
public static class AttentionMasks
{
    /// <summary>The most negative finite value of <paramref name="dtype"/>, which transformers uses for masked scores.</summary>
    public static double MinValue(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => double.MinValue,
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        _ => float.MinValue,
    };

    /// <summary>
    /// The mask (batch or 1, 1, query, prefix + past + query) for <paramref name="queryLength"/> new tokens after
    /// <paramref name="pastLength"/> cached ones, or null when every query may attend to every key (one new token,
    /// no padding, no window in reach), so the attention can skip adding it.
    /// </summary>
    /// <param name="queryLength">New tokens in this step.</param>
    /// <param name="pastLength">Cached tokens before them.</param>
    /// <param name="paddingMask">(batch, past + query), 1 for real tokens, 0 for padding; null for none.</param>
    /// <param name="slidingWindow">A key more than this many positions behind the query is hidden; null for none.</param>
    /// <param name="prefixLength">Prefix-tuning positions put in front, always attended.</param>
    /// <param name="dtype">The score dtype.</param>
    /// <param name="device">The device.</param>
    public static Tensor? Causal(long queryLength, long pastLength, Tensor? paddingMask, int? slidingWindow, long prefixLength, ScalarType dtype, Device device)
    {
        var total = pastLength + queryLength;
        if (queryLength == 1 && paddingMask is null && (slidingWindow is null || total <= slidingWindow)) return null;
        using var scope = NewDisposeScope();
        var queryPositions = arange(pastLength, total, ScalarType.Int64, device).unsqueeze(1);
        var keyPositions = arange(0, total, ScalarType.Int64, device).unsqueeze(0);
        var allowed = keyPositions <= queryPositions;
        if (slidingWindow is { } window) allowed = allowed.logical_and((queryPositions - keyPositions) < window);
        allowed = allowed.unsqueeze(0).unsqueeze(0);
        if (paddingMask is not null)
        {
            if (paddingMask.shape[^1] != total)
                throw new ArgumentException($"The attention mask covers {paddingMask.shape[^1]} positions but the step needs {total} (cached plus new).", nameof(paddingMask));
            allowed = allowed.logical_and(paddingMask.to(ScalarType.Bool).unsqueeze(1).unsqueeze(2));
        }
        var mask = zeros(allowed.shape, dtype, device).masked_fill(allowed.logical_not(), MinValue(dtype));
        if (prefixLength > 0)
            mask = cat([zeros([mask.shape[0], 1, queryLength, prefixLength], dtype, device), mask], -1);
        return mask.MoveToOuterDisposeScope();
    }
}
