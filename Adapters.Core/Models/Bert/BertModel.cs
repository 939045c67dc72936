using Adapters.Core.Conversion;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Bert;

/// <summary>
/// BERT (and, with <see cref="RobertaModel"/>, RoBERTa / XLM-R) as transformers computes it — exact-erf GELU, LayerNorm
/// eps from the config, additive extended attention mask, token types and a tanh pooler — with HF state-dict names
/// (<c>embeddings.word_embeddings.weight</c>, <c>encoder.layer.0.attention.self.query.weight</c>, <c>pooler.dense.weight</c>)
/// and adapter support.
/// </summary>
public class BertModel : AdapterModel, ITextEncoder
{
    private readonly BertEmbeddings _embeddings;
    private readonly BertLayer[] _layers;
    private readonly Linear? _pooler;
    private readonly string _basePrefix;

    /// <summary>Builds a randomly initialised BERT as transformers' <c>_init_weights</c> does.</summary>
    /// <param name="config">The architecture.</param>
    /// <param name="addPoolingLayer">Whether to include the pooler (transformers' <c>add_pooling_layer</c>).</param>
    /// <param name="basePrefix">The base prefix of saved keys; defaults to the model type's (e.g. <c>bert</c>).</param>
    /// <param name="device">The device of the parameters; the CPU when null.</param>
    /// <param name="dtype">The parameter dtype; float32 when null.</param>
    public BertModel(EncoderConfig config, bool addPoolingLayer = true, string? basePrefix = null, Device? device = null, ScalarType? dtype = null)
        : this(config, addPoolingLayer, basePrefix, robertaPositions: false, device, dtype)
    {
    }

    /// <summary>Builds the model; <paramref name="robertaPositions"/> selects RoBERTa's position ids.</summary>
    protected BertModel(EncoderConfig config, bool addPoolingLayer, string? basePrefix, bool robertaPositions, Device? device = null, ScalarType? dtype = null)
        : base(nameof(BertModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _basePrefix = basePrefix ?? config.BaseModelPrefix;
        _embeddings = new BertEmbeddings(config, robertaPositions, device, dtype);
        register_module("embeddings", _embeddings);
        var layers = new Methods.AdapterModuleDict();
        _layers = new BertLayer[config.NumHiddenLayers];
        for (var i = 0; i < _layers.Length; i++)
        {
            _layers[i] = new BertLayer(config, i, Setup, device, dtype);
            layers.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture), _layers[i]);
        }
        var encoder = new Methods.AdapterModuleDict();
        encoder.Add("layer", layers);
        register_module("encoder", encoder);
        if (addPoolingLayer)
        {
            _pooler = nn.Linear(config.HiddenSize, config.HiddenSize, true, device, dtype);
            var pooler = new Methods.AdapterModuleDict();
            pooler.Add("dense", _pooler);
            register_module("pooler", pooler);
        }
        RegisterAdapterContainers();
        InitWeights();
        DeviceRecord.Align(this, device);
    }

    /// <summary>The architecture.</summary>
    public EncoderConfig Config { get; }

    /// <inheritdoc />
    public override string ModelClassName => _basePrefix switch
    {
        "roberta" => Config.ModelType == "xlm-roberta" ? "XLMRobertaAdapterModel" : "RobertaAdapterModel",
        "bigbird" => "BigBirdAdapterModel",
        _ => "BertAdapterModel",
    };

    /// <inheritdoc />
    public override string? ModelName => Config.NameOrPath;

    /// <inheritdoc />
    protected override AdapterModelInterface CreateInterface() =>
        new(Config.ModelType, _basePrefix, Config.HiddenSize, _layers.Select(l => l.Describe()).ToArray());

    /// <inheritdoc />
    public Parameter WordEmbeddings => _embeddings.WordEmbeddings;

    /// <inheritdoc />
    protected override bool SupportsPromptTuning => true;

    /// <inheritdoc />
    protected internal override bool SupportsPeftPromptLearning => true;

    /// <inheritdoc />
    public EncoderOutput Encode(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        Forward(inputIds, attentionMask, tokenTypeIds);

    /// <summary>Runs the encoder on token ids (B, S); the mask is 1 for tokens to attend to.</summary>
    public EncoderOutput Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        using var adapterForward = BeginAdapterForward(attentionMask);
        // PEFT prompt learning works outside the model: prompts join the word embeddings, a prefix takes the first
        // positions, the mask gets their columns, and token types are dropped (PEFT passes none).
        var peft = ActivePeftVirtualTokens(inputIds.shape[0], _embeddings.WordEmbeddings.dtype);
        var hidden = ApplyInvertibleAdapter(_embeddings.Forward(inputIds, peft is null ? tokenTypeIds : null, peft));
        attentionMask = peft?.ExtendMask(attentionMask) ?? attentionMask;
        (hidden, attentionMask) = ApplyPromptTuning(hidden, attentionMask);
        Tensor? extended = null;
        if (attentionMask is not null)
        {
            // transformers' get_extended_attention_mask: (1 - mask) · finfo(dtype).min, broadcast over heads and queries.
            var mask = attentionMask.to(hidden.dtype).unsqueeze(1).unsqueeze(2);
            extended = (1.0 - mask) * Generation.AttentionMasks.MinValue(hidden.dtype);
        }
        foreach (var layer in _layers) hidden = layer.Forward(hidden, extended, peft?.Prefix);
        Tensor? pooled = null;
        if (_pooler is not null)
        {
            var first = hidden.select(1, 0);
            pooled = torch.tanh(_pooler.call(first));
        }
        return new EncoderOutput(hidden, pooled) { AdapterOutputs = adapterForward.Outputs };
    }

    private void InitWeights()
    {
        using var _ = no_grad();
        var std = Config.InitializerRange;
        foreach (var layer in _layers)
        {
            foreach (var linear in new[] { layer.Query, layer.Key, layer.Value, layer.Intermediate, layer.Output })
            {
                nn.init.normal_(linear.weight, 0.0, std);
                nn.init.zeros_(linear.bias!);
            }
            nn.init.normal_(layer.AttentionDense.weight, 0.0, std);
            nn.init.zeros_(layer.AttentionDense.bias!);
        }
        if (_pooler is not null)
        {
            nn.init.normal_(_pooler.weight, 0.0, std);
            nn.init.zeros_(_pooler.bias!);
        }
        foreach (var embedding in _embeddings.Embeddings)
        {
            nn.init.normal_(embedding.weight!, 0.0, std);
        }
        _embeddings.ZeroPaddingRows();
    }
}
