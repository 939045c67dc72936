using static TorchSharp.torch;

namespace Adapters.Core.Generation;

/// <summary>
/// A bare decoder (transformers' <c>GPT2Model</c>, <c>LlamaModel</c>): the stack that returns final hidden states, with
/// a key/value cache, and the token facts generation needs. LM heads on top make it an <see cref="ICausalLM"/>.
/// </summary>
public interface IDecoderStack
{
    /// <summary>The number of decoder layers (the size of a <see cref="KeyValueCache"/>).</summary>
    int LayerCount { get; }

    /// <summary>The end-of-sequence token ids from the config.</summary>
    IReadOnlyList<long> EosTokenIds { get; }

    /// <summary>The padding token id from the config, if any.</summary>
    long? PadTokenId { get; }

    /// <summary>Runs the stack and returns the final-norm hidden states (batch, sequence, hidden); arguments as in <see cref="ICausalLM.Forward"/>.</summary>
    Tensor Forward(Tensor? inputIds, KeyValueCache? cache = null, Tensor? attentionMask = null, Tensor? positionIds = null, Tensor? inputsEmbeds = null);

    /// <summary>
    /// <see cref="Forward"/> that also returns what the pass's adapter sites reported (fusion attentions, gating scores)
    /// when the model asked for them.
    /// </summary>
    DecoderStackOutput Decode(Tensor? inputIds, KeyValueCache? cache = null, Tensor? attentionMask = null, Tensor? positionIds = null, Tensor? inputsEmbeds = null);
}
