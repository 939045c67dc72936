namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// One of PEFT's prompt-learning methods (prompt tuning, p-tuning, prefix tuning) or Llama-Adapter in
/// <see cref="PeftMethodRegistry"/>: folders of its <c>peft_type</c> load as adapters of the model
/// (<see cref="PeftPromptLearning"/>) instead of wrapping target modules.
/// </summary>
public sealed class PeftPromptLearningPeftMethod : PeftMethod
{
    /// <summary>The method for <paramref name="peftType"/>, one of <see cref="PeftPromptLearningConfig"/>'s four types.</summary>
    public PeftPromptLearningPeftMethod(string peftType)
    {
        // The v0.14 dataclass fields are those Create writes with their defaults.
        KnownFields = PeftPromptLearningConfig.DefaultDocument(peftType).Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        PeftType = peftType;
    }

    /// <inheritdoc />
    public override string PeftType { get; }

    /// <inheritdoc />
    public override IReadOnlySet<string> KnownFields { get; }
}
