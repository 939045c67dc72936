using static TorchSharp.torch;

namespace Adapters.Core.Generation;

/// <summary>transformers' logits processors and warpers, applied to (batch, vocab) next-token scores.</summary>
public static class LogitsProcessing
{
    /// <summary>
    /// CTRL's repetition penalty (<c>RepetitionPenaltyLogitsProcessor</c>): for every token already in
    /// <paramref name="sequences"/>, a negative score is multiplied by the penalty and a positive one divided by it.
    /// </summary>
    public static Tensor RepetitionPenalty(Tensor logits, Tensor sequences, double penalty)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(sequences);
        if (penalty == 1.0) return logits;
        var seen = logits.gather(1, sequences);
        var penalized = where(seen < 0, seen * penalty, seen / penalty);
        return logits.scatter(1, sequences, penalized);
    }

    /// <summary>Keeps the <paramref name="k"/> highest scores and sets the rest to -inf (<c>TopKLogitsWarper</c>).</summary>
    public static Tensor TopK(Tensor logits, int k)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (k <= 0 || k >= logits.shape[^1]) return logits;
        var (values, _) = logits.topk(k, dim: -1);
        var threshold = values.narrow(-1, k - 1, 1);
        return logits.masked_fill(logits < threshold, double.NegativeInfinity);
    }

    /// <summary>
    /// Nucleus filtering (<c>TopPLogitsWarper</c>): sorted ascending, tokens whose cumulative probability stays at or
    /// below <c>1 - p</c> are removed; the most likely token always stays.
    /// </summary>
    public static Tensor TopP(Tensor logits, double p)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (p >= 1.0) return logits;
        var (sorted, indices) = logits.sort(-1, descending: false);
        var cumulative = sorted.softmax(-1).cumsum(-1);
        var remove = cumulative <= (1 - p);
        remove.select(-1, -1).fill_(false);
        var removeInVocabOrder = remove.scatter(1, indices, remove);
        return logits.masked_fill(removeInVocabOrder, double.NegativeInfinity);
    }
}
