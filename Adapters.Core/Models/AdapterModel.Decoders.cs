using Adapters.Core.Generation;
using Adapters.Core.Methods.PromptTuning;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>Prompt tuning on decoder-only models, where the prompt has to survive a key/value cache.</summary>
public abstract partial class AdapterModel
{
    /// <summary>
    /// Puts the first active adapter's prompt in front of the token embeddings of a decoder step and adapts the mask and
    /// positions to it. The prompt only runs when nothing is cached yet (the first generation step, or any uncached
    /// forward); later cached steps find its length in <see cref="KeyValueCache.PromptLength"/> and only shift. The mask
    /// (B, tokens) gets attended prompt columns in front, as Python's <c>prefix_attention_mask</c> does. Positions then
    /// count the prompt as real leading tokens; caller position ids are ignored while a prompt is active, as PEFT does
    /// for prompt learning, so cached and uncached decoding agree.
    /// </summary>
    /// <param name="embeds">Token embeddings of this step (B, S, H).</param>
    /// <param name="cache">The step's cache, or null.</param>
    /// <param name="attentionMask">(B, past tokens + S), 1 = token, 0 = padding; null for none.</param>
    /// <param name="positionIds">The caller's positions (B, S), or null.</param>
    /// <returns>The embeddings (B, P + S, H on the first step), the widened mask and the positions to use.</returns>
    protected (Tensor Embeds, Tensor? AttentionMask, Tensor? PositionIds) ApplyDecoderPromptTuning(Tensor embeds, KeyValueCache? cache, Tensor? attentionMask, Tensor? positionIds)
    {
        ArgumentNullException.ThrowIfNull(embeds);
        long promptLength;
        if (cache is null || cache.Length == 0)
        {
            var applied = PromptTuningMethod.Layer(this) is { } prompts ? prompts.Forward(embeds) : (embeds, 0);
            embeds = applied.Item1;
            promptLength = applied.Item2;
            if (cache is not null) cache.PromptLength = promptLength;
        }
        else
        {
            promptLength = cache.PromptLength;
        }
        if (promptLength == 0) return (embeds, attentionMask, positionIds);
        var batch = embeds.shape[0];
        var length = embeds.shape[1];
        var past = cache?.Length ?? 0;
        if (attentionMask is null)
            return (embeds, null, arange(past, past + length, ScalarType.Int64, embeds.device).unsqueeze(0).expand(batch, length));
        var mask = cat([ones([attentionMask.shape[0], promptLength], attentionMask.dtype, attentionMask.device), attentionMask], 1);
        var positions = mask.to(ScalarType.Int64).cumsum(-1) - 1;
        positions = positions.masked_fill(mask == 0, 1).narrow(1, past, length);
        return (embeds, mask, positions);
    }

    /// <summary>
    /// Replicates a decoder step's inputs once per child of the active <see cref="Composition.Parallel"/> block before
    /// the first layer, so that every layer, mask, rotary table and cache row sees the same N·B batch (Python
    /// replicates at the first adapter layer, where all copies are still equal, so the outputs agree; it
    /// pre-replicates for generation). Inputs already replicated (<see cref="Methods.ActiveAdapterSetup.InputParallelized"/>)
    /// are only recorded as such. Call inside the pass's forward context; without a Parallel block nothing changes.
    /// </summary>
    /// <exception cref="Composition.AdapterCompositionException">Pre-replicated inputs whose rows do not divide into the channels.</exception>
    protected (Tensor Embeds, Tensor? AttentionMask, Tensor? PositionIds) ReplicateForParallel(Tensor embeds, Tensor? attentionMask, Tensor? positionIds)
    {
        ArgumentNullException.ThrowIfNull(embeds);
        var channels = Setup.Effective?.ParallelChannels ?? 1;
        if (channels <= 1) return (embeds, attentionMask, positionIds);
        var context = Setup.RequireForward(Setup.Effective!);
        var rows = embeds.shape[0];
        if (Setup.InputParallelized)
        {
            if (rows % channels != 0)
                throw new Composition.AdapterCompositionException($"The input of {rows} rows was marked as replicated for a Parallel block of {channels} channels, but does not divide into them.");
            context.MarkParallelized(rows / channels);
            return (embeds, attentionMask, positionIds);
        }
        context.MarkParallelized(rows);
        Tensor? Repeat(Tensor? t) => t is null ? null : Composition.ParallelBatch.Repeat(t, channels);
        return (Repeat(embeds)!, Repeat(attentionMask), Repeat(positionIds));
    }

    /// <summary>
    /// Labels for a forward whose sequence grew by a prompt: the prompt positions get -100 in front, as Python's LM heads
    /// prepend for prompt tuning. Returns <paramref name="labels"/> unchanged when the lengths agree.
    /// </summary>
    internal static Tensor AlignLabelsWithPrompt(Tensor labels, long sequenceLength)
    {
        var missing = sequenceLength - labels.shape[1];
        if (missing <= 0) return labels;
        return cat([full([labels.shape[0], missing], -100L, labels.dtype, labels.device), labels], 1);
    }
}
