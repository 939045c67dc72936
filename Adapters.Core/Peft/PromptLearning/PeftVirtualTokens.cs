using static TorchSharp.torch;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// What the active PEFT prompt-learning adapter does to one forward pass, as PEFT's <c>PeftModel.forward</c> does it
/// outside the base model: prompt embeddings to put in front of the word embeddings (prompt tuning, p-tuning) or a
/// prefix to put in front of every attention's keys and values (prefix tuning); in both cases the attention mask gets
/// <see cref="MaskColumns"/> ones in front, and with a prefix the tokens' positions start after it.
/// </summary>
/// <param name="Prompt">(batch, T, token_dim) to prepend to the word embeddings, or null.</param>
/// <param name="Prefix">The per-layer prefix keys and values, or null.</param>
public sealed record PeftVirtualTokens(Tensor? Prompt, PeftPrefix? Prefix)
{
    /// <summary>How many attended columns the (batch, tokens) attention mask gets in front.</summary>
    public long MaskColumns => Prompt?.shape[1] ?? Prefix?.Length ?? 0;

    /// <summary>Where the tokens' positions start: after the prefix, which PEFT passes as cached positions.</summary>
    public long PositionOffset => Prefix?.Length ?? 0;

    /// <summary><paramref name="attentionMask"/> (batch, tokens) with <see cref="MaskColumns"/> ones in front; null stays null.</summary>
    public Tensor? ExtendMask(Tensor? attentionMask) =>
        attentionMask is null || MaskColumns == 0
            ? attentionMask
            : cat([ones([attentionMask.shape[0], MaskColumns], attentionMask.dtype, attentionMask.device), attentionMask], 1);

    /// <summary><paramref name="embeds"/> (batch, S, H) with the prompt in front; unchanged without a prompt.</summary>
    public Tensor Prepend(Tensor embeds)
    {
        ArgumentNullException.ThrowIfNull(embeds);
        return Prompt is null ? embeds : cat([Prompt.to(embeds.dtype), embeds], 1);
    }
}
