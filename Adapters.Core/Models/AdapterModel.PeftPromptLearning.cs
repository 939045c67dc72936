using Adapters.Core.Methods;
using Adapters.Core.Peft.PromptLearning;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>
/// PEFT's prompt-learning methods and Llama-Adapter: their modules live in one model-level container,
/// <c>peft_prompts.&lt;adapter&gt;</c> (<see cref="PeftPromptLearningMethod"/>), and models ask here what the first
/// active one does to a forward pass.
/// </summary>
public abstract partial class AdapterModel
{
    /// <summary>
    /// Whether the model's forward applies <see cref="ActivePeftVirtualTokens"/> (PEFT prompt tuning, p-tuning and
    /// prefix tuning); loading those methods is refused otherwise.
    /// </summary>
    protected internal virtual bool SupportsPeftPromptLearning => false;

    /// <summary>
    /// Applies PEFT prompt learning to a decoder step as PEFT's <c>PeftModelForCausalLM</c> does: on the first step
    /// the prompt goes in front of the embeddings, the mask gets its columns and caller positions are ignored (PEFT
    /// ignores them); the prompt's length is added to <see cref="Generation.KeyValueCache.PromptLength"/>, so later
    /// cached steps, which find the prompt in the cache, get their mask widened by <see cref="ApplyDecoderPromptTuning"/>
    /// (call this after it). A prefix leaves the embeddings and mask alone (the mask builder adds its attended columns)
    /// and moves the positions behind it.
    /// </summary>
    protected static (Tensor Embeds, Tensor? AttentionMask, Tensor? PositionIds) ApplyPeftVirtualTokens(PeftVirtualTokens? peft, Tensor embeds,
        Generation.KeyValueCache? cache, Tensor? attentionMask, Tensor? positionIds)
    {
        ArgumentNullException.ThrowIfNull(embeds);
        if (peft is null) return (embeds, attentionMask, positionIds);
        var past = cache?.Length ?? 0;
        if (peft.Prompt is not null)
        {
            if (past > 0) return (embeds, attentionMask, positionIds);
            if (cache is not null) cache.PromptLength += peft.MaskColumns;
            return (peft.Prepend(embeds), peft.ExtendMask(attentionMask), null);
        }
        var batch = embeds.shape[0];
        var length = embeds.shape[1];
        var start = past + peft.PositionOffset;
        return (embeds, attentionMask, arange(start, start + length, ScalarType.Int64, embeds.device).unsqueeze(0).expand(batch, length));
    }

    /// <summary>The word embedding matrix (vocab, H) PEFT's TEXT prompt init reads; null when the model has none.</summary>
    internal Tensor? PeftWordEmbeddings => PromptWordEmbeddings;

    private AdapterModuleDict? PeftPrompts => PeftPromptLearningMethod.Container(this);

    /// <summary>The PEFT prompt-learning module of adapter <paramref name="name"/>, or null.</summary>
    internal nn.Module? PeftPromptModule(string name) => PeftPrompts is { } prompts && prompts.Contains(name) ? prompts.Get<nn.Module>(name) : null;

    /// <summary>Replaces the PEFT prompt-learning module of adapter <paramref name="name"/> (baking an encoder into its output).</summary>
    internal void ReplacePeftPromptModule(string name, nn.Module module)
    {
        var prompts = PeftPrompts;
        if (prompts is null || !prompts.Remove(name)) throw new ArgumentException($"Adapter \"{name}\" is not a PEFT prompt-learning adapter.", nameof(name));
        prompts.Add(name, module);
    }

    /// <summary>
    /// What the first active PEFT prompt encoder does to a forward pass of <paramref name="batch"/> rows in
    /// <paramref name="dtype"/>, or null when none is active (Llama-Adapter acts inside attention instead, see
    /// <see cref="ActiveAdaptionPrompt"/>).
    /// </summary>
    protected PeftVirtualTokens? ActivePeftVirtualTokens(long batch, ScalarType dtype)
    {
        if (PeftPrompts is not { Count: > 0 } prompts) return null;
        foreach (var name in Setup.Names)
        {
            if (!prompts.Contains(name)) continue;
            if (prompts.Get<PeftPromptEncoder>(name) is not { } encoder) return null;
            var output = encoder.Output();
            return encoder.Config.IsPrompt
                ? new PeftVirtualTokens(output.unsqueeze(0).expand(batch, -1, -1), null)
                : new PeftVirtualTokens(null, new PeftPrefix(encoder.Config, output, dtype));
        }
        return null;
    }

    /// <summary>The first active Llama-Adapter, or null.</summary>
    internal AdaptionPromptAdapter? ActiveAdaptionPrompt()
    {
        if (PeftPrompts is not { Count: > 0 } prompts) return null;
        foreach (var name in Setup.Names)
        {
            if (prompts.Contains(name)) return prompts.Get<AdaptionPromptAdapter>(name);
        }
        return null;
    }
}
