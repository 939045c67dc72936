using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Generation;

/// <summary>
/// Autoregressive decoding for an <see cref="ICausalLM"/> (transformers' <c>generate</c> for greedy search and
/// sampling): the prompt is run once, then one token per step, reusing a <see cref="KeyValueCache"/> unless
/// <see cref="GenerationOptions.UseCache"/> is off. Adapters active on the base model (including merged LoRA) take
/// part. Left-padded batches are supported through the attention mask; positions count real tokens only.
/// </summary>
public static class TextGenerator
{
    /// <summary>
    /// Generates continuations of <paramref name="inputIds"/> (batch, prompt). Under an active
    /// <see cref="Composition.Parallel"/> block of N children the result holds N × batch sequences, child i in rows
    /// i·batch … (i+1)·batch − 1, as Python's <c>generate</c> returns them.
    /// </summary>
    /// <param name="model">The language model; it runs in eval mode for the call and gets its mode back afterwards.</param>
    /// <param name="inputIds">(batch, prompt) token ids, left-padded when prompts differ in length.</param>
    /// <param name="options">Decoding settings.</param>
    /// <param name="attentionMask">(batch, prompt), 1 for tokens and 0 for left padding; null when unpadded.</param>
    public static GenerationResult Generate(ICausalLM model, Tensor inputIds, GenerationOptions options, Tensor? attentionMask = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (inputIds.dim() != 2 || inputIds.shape[1] == 0) throw new ArgumentException("inputIds must be (batch, prompt) with a non-empty prompt.", nameof(inputIds));
        var module = (nn.Module)model.BaseModel;
        var wasTraining = module.training;
        module.eval();
        // With a Parallel block active, every prompt is decoded once per channel, as Python pre-replicates the inputs:
        // the result then holds channels × batch sequences, channel-major.
        var channels = model.BaseModel.Setup.Effective?.ParallelChannels ?? 1;
        using var parallelized = channels > 1 ? model.BaseModel.Setup.ParallelizedInput() : null;
        if (channels > 1)
        {
            inputIds = Composition.ParallelBatch.Repeat(inputIds, channels);
            if (attentionMask is not null) attentionMask = Composition.ParallelBatch.Repeat(attentionMask, channels);
        }
        var batch = (int)inputIds.shape[0];
        var stopIds = (options.StopTokenIds ?? model.EosTokenIds).ToHashSet();
        var padId = model.PadTokenId ?? (stopIds.Count > 0 ? stopIds.First() : 0);
        var generator = options.Seed is { } seed ? new Generator(seed, inputIds.device) : null;
        var newTokens = Enumerable.Range(0, batch).Select(_ => new List<long>()).ToArray();
        var reasons = new FinishReason?[batch];
        var stepLogits = new List<Tensor>();
        var sequences = inputIds.to(ScalarType.Int64).clone();
        var mask = (attentionMask ?? ones_like(inputIds)).to(ScalarType.Int64).clone();
        var cache = options.UseCache ? new KeyValueCache(model.LayerCount) : null;
        try
        {
            using var _ = no_grad();
            for (var step = 0; step < options.MaxNewTokens && reasons.Any(r => r is null); step++)
            {
                using var scope = NewDisposeScope();
                var positions = mask.cumsum(-1) - 1;
                positions = positions.masked_fill(mask == 0, 1);
                // Input tokens already in the cache; a prompt-tuning prompt occupies cache positions but no sequence tokens.
                var pastLength = cache is null ? 0 : cache.Length - cache.PromptLength;
                var stepIds = sequences.narrow(1, pastLength, sequences.shape[1] - pastLength);
                var stepPositions = positions.narrow(1, pastLength, stepIds.shape[1]);
                var padded = attentionMask is not null ? mask : null;
                var output = model.Forward(stepIds, cache, padded, stepPositions);
                var logits = output.Logits.select(1, -1).to(ScalarType.Float32);
                logits = LogitsProcessing.RepetitionPenalty(logits, sequences, options.RepetitionPenalty);
                Tensor next;
                if (options.DoSample)
                {
                    if (options.Temperature != 1.0) logits = logits / options.Temperature;
                    logits = LogitsProcessing.TopK(logits, options.TopK);
                    logits = LogitsProcessing.TopP(logits, options.TopP);
                    next = multinomial(logits.softmax(-1), 1, generator: generator).squeeze(1);
                }
                else
                {
                    next = logits.argmax(-1);
                }
                if (options.KeepLogits) stepLogits.Add(logits.detach().clone().DetachFromDisposeScope());
                var chosen = next.data<long>().ToArray();
                for (var b = 0; b < batch; b++)
                {
                    if (reasons[b] is not null)
                    {
                        chosen[b] = padId;
                        continue;
                    }
                    newTokens[b].Add(chosen[b]);
                    if (stopIds.Contains(chosen[b])) reasons[b] = FinishReason.StopToken;
                    else if (options.StopStrings.Count > 0 && options.Decode!(newTokens[b]) is var text && options.StopStrings.Any(s => text.Contains(s, StringComparison.Ordinal)))
                        reasons[b] = FinishReason.StopString;
                }
                var column = tensor(chosen, ScalarType.Int64, sequences.device).unsqueeze(1);
                var grown = cat([sequences, column], 1).DetachFromDisposeScope();
                var grownMask = cat([mask, ones_like(column)], 1).DetachFromDisposeScope();
                sequences.Dispose();
                mask.Dispose();
                sequences = grown;
                mask = grownMask;
            }
        }
        finally
        {
            cache?.Dispose();
            mask.Dispose();
            generator?.Dispose();
            module.train(wasTraining);
        }
        return new GenerationResult(sequences, newTokens, reasons.Select(r => r ?? FinishReason.Length).ToArray(), stepLogits);
    }
}
