using Adapters.Core.Conversion;
using Adapters.Core.Generation;
using Adapters.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Gpt2;

/// <summary>
/// transformers' <c>GPT2LMHeadModel</c>: <see cref="Gpt2Model"/> under <c>transformer</c> and an LM head tied to
/// <c>wte</c> (no bias), so <c>state_dict()</c> keys are the HF checkpoint keys.
/// </summary>
public sealed class Gpt2LMHeadModel : nn.Module, ICausalLM
{
    /// <summary>Builds a randomly initialised model.</summary>
    public Gpt2LMHeadModel(Gpt2Config config, Device? device = null, ScalarType? dtype = null) : base(nameof(Gpt2LMHeadModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Transformer = new Gpt2Model(config, device, dtype);
        register_module("transformer", Transformer);
        DeviceRecord.Align(this, device);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The architecture.</summary>
    public Gpt2Config Config { get; }

    /// <summary>The transformer, which carries the adapters.</summary>
    public Gpt2Model Transformer { get; }

    /// <inheritdoc />
    public AdapterModel BaseModel => Transformer;

    /// <inheritdoc />
    public long VocabSize => Config.VocabSize;

    /// <inheritdoc />
    public int LayerCount => Config.NLayer;

    /// <inheritdoc />
    public IReadOnlyList<long> EosTokenIds => [Config.EosTokenId];

    /// <inheritdoc />
    public long? PadTokenId => Config.PadTokenId;

    /// <inheritdoc />
    public CausalLMOutput Forward(Tensor? inputIds, KeyValueCache? cache = null, Tensor? attentionMask = null, Tensor? positionIds = null,
        Tensor? inputsEmbeds = null, Tensor? labels = null)
    {
        var (hidden, adapterOutputs) = Transformer.Decode(inputIds, cache, attentionMask, positionIds, inputsEmbeds);
        var logits = nn.functional.linear(Transformer.ApplyInvertibleAdapterInverse(hidden), Transformer.TokenEmbeddings);
        // A prompt-tuning prompt lengthens the sequence; its positions are not scored (-100 labels in front, as in Python).
        return new CausalLMOutput(logits, hidden, labels is null ? null : CausalLMLoss.Compute(logits, AdapterModel.AlignLabelsWithPrompt(labels, logits.shape[1])))
        {
            AdapterOutputs = adapterOutputs,
        };
    }
}
