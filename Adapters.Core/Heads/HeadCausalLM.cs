using Adapters.Core.Generation;
using Adapters.Core.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Heads;

/// <summary>
/// A decoder with its flex causal-LM head as an <see cref="ICausalLM"/>, so <see cref="TextGenerator"/> runs it with
/// the key/value cache, as Python's <c>GPT2AdapterModel</c> / <c>LlamaAdapterModel</c> generate with a
/// <c>causal_lm</c> head. Made by <see cref="FlexHeadModel.AsCausalLM"/>.
/// </summary>
public sealed class HeadCausalLM : ICausalLM
{
    private readonly IDecoderStack _decoder;
    private readonly PredictionHead _head;

    internal HeadCausalLM(AdapterModel baseModel, IDecoderStack decoder, PredictionHead head)
    {
        BaseModel = baseModel;
        _decoder = decoder;
        _head = head;
        VocabSize = Configuration.ConfigValues.ReadInt(head.Config["vocab_size"], "vocab_size");
    }

    /// <inheritdoc />
    public AdapterModel BaseModel { get; }

    /// <inheritdoc />
    public long VocabSize { get; }

    /// <inheritdoc />
    public int LayerCount => _decoder.LayerCount;

    /// <inheritdoc />
    public IReadOnlyList<long> EosTokenIds => _decoder.EosTokenIds;

    /// <inheritdoc />
    public long? PadTokenId => _decoder.PadTokenId;

    /// <summary>Runs the decoder, then the head on every position; the loss is the head's (<see cref="PredictionHead.Loss"/>).</summary>
    public CausalLMOutput Forward(Tensor? inputIds, KeyValueCache? cache = null, Tensor? attentionMask = null, Tensor? positionIds = null,
        Tensor? inputsEmbeds = null, Tensor? labels = null)
    {
        var (hidden, adapterOutputs) = _decoder.Decode(inputIds, cache, attentionMask, positionIds, inputsEmbeds);
        var logits = _head.Forward(new EncoderOutput(hidden, null), BaseModel);
        return new CausalLMOutput(logits, hidden, labels is null ? null : _head.Loss(logits, labels)) { AdapterOutputs = adapterOutputs };
    }
}
