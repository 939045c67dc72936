namespace Adapters.Core.Generation;

/// <summary>
/// Settings of <see cref="TextGenerator.Generate"/>, with transformers' <c>GenerationConfig</c> meanings. Greedy
/// decoding unless <see cref="DoSample"/>; when sampling, the logits pass through the repetition penalty,
/// temperature, top-k and top-p in that order (transformers' processor order).
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>The most tokens to add per sequence (<c>max_new_tokens</c>).</summary>
    public int MaxNewTokens { get; init; } = 20;

    /// <summary>Sample from the distribution instead of taking the arg-max (<c>do_sample</c>).</summary>
    public bool DoSample { get; init; }

    /// <summary>Divides the logits before sampling; must be positive.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Keep only the k most likely tokens when sampling; 0 disables.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of tokens whose probability reaches this mass when sampling; 1 disables.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>CTRL's repetition penalty on tokens already in the sequence (also in greedy mode); 1 disables.</summary>
    public double RepetitionPenalty { get; init; } = 1.0;

    /// <summary>Token ids that end a sequence; null uses the model's <c>eos_token_id</c>.</summary>
    public IReadOnlyList<long>? StopTokenIds { get; init; }

    /// <summary>Texts that end a sequence once its decoded continuation contains one (needs <see cref="Decode"/>).</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Turns generated token ids into text, for <see cref="StopStrings"/>.</summary>
    public Func<IReadOnlyList<long>, string>? Decode { get; init; }

    /// <summary>Seed of the sampling generator; null draws from the global generator.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Reuse past keys and values instead of recomputing the whole sequence at every step.</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>Keep each step's final (processed) next-token logits in <see cref="GenerationResult.StepLogits"/>.</summary>
    public bool KeepLogits { get; init; }

    /// <summary>Checks ranges.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentException($"MaxNewTokens must be 0 or more, got {MaxNewTokens}.");
        if (!(Temperature > 0)) throw new ArgumentException($"Temperature must be positive, got {Temperature}.");
        if (TopK < 0) throw new ArgumentException($"TopK must be 0 (off) or positive, got {TopK}.");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"TopP must be in (0, 1], got {TopP}.");
        if (!(RepetitionPenalty > 0)) throw new ArgumentException($"RepetitionPenalty must be positive, got {RepetitionPenalty}.");
        if (StopStrings.Count > 0 && Decode is null) throw new ArgumentException("StopStrings need a Decode function.");
    }
}
