using Adapters.Core.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Generation;

/// <summary>
/// A decoder-only language model with a vocabulary head (transformers' <c>*ForCausalLM</c>): GPT-2, Llama, Mistral and
/// Qwen2 here. Its adapter API is <see cref="BaseModel"/>; adapters active there run in <see cref="Forward"/> and
/// in <see cref="TextGenerator.Generate"/>.
/// </summary>
public interface ICausalLM
{
    /// <summary>The adapter-carrying base model (<c>transformer</c> for GPT-2, <c>model</c> for Llama).</summary>
    AdapterModel BaseModel { get; }

    /// <summary>The vocabulary size.</summary>
    long VocabSize { get; }

    /// <summary>The number of decoder layers (the size of a <see cref="KeyValueCache"/>).</summary>
    int LayerCount { get; }

    /// <summary>The end-of-sequence token ids from the config (Llama 3 may have several).</summary>
    IReadOnlyList<long> EosTokenIds { get; }

    /// <summary>The padding token id from the config, if any.</summary>
    long? PadTokenId { get; }

    /// <summary>
    /// Runs the model. With a <paramref name="cache"/>, the tokens are appended after the cached ones and the cache is
    /// extended; <paramref name="attentionMask"/> then covers cached plus new positions.
    /// </summary>
    /// <param name="inputIds">(batch, sequence) token ids; null when <paramref name="inputsEmbeds"/> is given.</param>
    /// <param name="cache">Past keys and values to extend, or null to run without a cache.</param>
    /// <param name="attentionMask">(batch, past + sequence), 1 for tokens, 0 for padding; null for no padding.</param>
    /// <param name="positionIds">(batch, sequence) positions; null counts on from the cache length.</param>
    /// <param name="inputsEmbeds">(batch, sequence, hidden) input embeddings instead of ids (the prompt-tuning extension point).</param>
    /// <param name="labels">(batch, sequence) targets, -100 to ignore; the loss shifts them by one as transformers does.</param>
    CausalLMOutput Forward(Tensor? inputIds, KeyValueCache? cache = null, Tensor? attentionMask = null, Tensor? positionIds = null,
        Tensor? inputsEmbeds = null, Tensor? labels = null);
}
