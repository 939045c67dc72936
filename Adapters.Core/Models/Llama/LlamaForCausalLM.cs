using Adapters.Core.Conversion;
using Adapters.Core.Generation;
using Adapters.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Llama;

/// <summary>
/// transformers' <c>LlamaForCausalLM</c> / <c>MistralForCausalLM</c> / <c>Qwen2ForCausalLM</c>: <see cref="LlamaModel"/>
/// under <c>model</c> plus <c>lm_head</c> (no bias), or the embedding matrix when <c>tie_word_embeddings</c>. Its
/// <c>state_dict()</c> keys are the HF checkpoint keys (<c>model.layers.0.mlp.up_proj.weight</c>, <c>lm_head.weight</c>).
/// </summary>
public sealed class LlamaForCausalLM : nn.Module, ICausalLM
{
    private readonly Linear? _head;

    /// <summary>Builds a randomly initialised model.</summary>
    public LlamaForCausalLM(LlamaConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(LlamaForCausalLM))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Model = new LlamaModel(config, device, dtype);
        register_module("model", Model);
        if (!config.TieWordEmbeddings)
        {
            _head = nn.Linear(config.HiddenSize, config.VocabSize, false, device, dtype);
            using (no_grad()) nn.init.normal_(_head.weight, 0.0, config.InitializerRange);
            register_module("lm_head", _head);
        }
        DeviceRecord.Align(this, device);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The architecture.</summary>
    public LlamaConfig Config { get; }

    /// <summary>The decoder stack, which carries the adapters.</summary>
    public LlamaModel Model { get; }

    /// <inheritdoc />
    public AdapterModel BaseModel => Model;

    /// <inheritdoc />
    public long VocabSize => Config.VocabSize;

    /// <inheritdoc />
    public int LayerCount => Config.NumHiddenLayers;

    /// <inheritdoc />
    public IReadOnlyList<long> EosTokenIds => Config.EosTokenIds;

    /// <inheritdoc />
    public long? PadTokenId => Config.PadTokenId;

    /// <summary>The vocabulary projection (vocab, hidden): <c>lm_head.weight</c>, or <c>embed_tokens.weight</c> when tied.</summary>
    public Tensor HeadWeight => _head?.weight ?? Model.EmbedTokens;

    /// <inheritdoc />
    public CausalLMOutput Forward(Tensor? inputIds, KeyValueCache? cache = null, Tensor? attentionMask = null, Tensor? positionIds = null,
        Tensor? inputsEmbeds = null, Tensor? labels = null)
    {
        var (hidden, adapterOutputs) = Model.Decode(inputIds, cache, attentionMask, positionIds, inputsEmbeds);
        var logits = nn.functional.linear(Model.ApplyInvertibleAdapterInverse(hidden), HeadWeight);
        // A prompt-tuning prompt lengthens the sequence; its positions are not scored (-100 labels in front, as in Python).
        return new CausalLMOutput(logits, hidden, labels is null ? null : CausalLMLoss.Compute(logits, AdapterModel.AlignLabelsWithPrompt(labels, logits.shape[1])))
        {
            AdapterOutputs = adapterOutputs,
        };
    }
}
