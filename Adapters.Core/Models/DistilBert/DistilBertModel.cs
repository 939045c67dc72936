using Adapters.Core.Conversion;
using Adapters.Core.Methods;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.DistilBert;

/// <summary>
/// DistilBERT as transformers computes it (no token types, no pooler, LayerNorm eps 1e-12), with HF state-dict names
/// (<c>embeddings.*</c>, <c>transformer.layer.N.*</c>) and adapter support under the <c>distilbert.</c> prefix.
/// </summary>
public sealed class DistilBertModel : AdapterModel, ITextEncoder
{
    private readonly Embedding _word;
    private readonly Embedding _position;
    private readonly LayerNorm _norm;
    private readonly DistilBertLayer[] _layers;

    /// <summary>Builds a randomly initialised DistilBERT.</summary>
    /// <param name="config">The architecture.</param>
    /// <param name="device">The device of the parameters; the CPU when null.</param>
    /// <param name="dtype">The parameter dtype; float32 when null.</param>
    public DistilBertModel(EncoderConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(DistilBertModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _word = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId, device: device, dtype: dtype);
        _position = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, device: device, dtype: dtype);
        _norm = nn.LayerNorm(config.HiddenSize, 1e-12, device: device, dtype: dtype);
        var embeddings = new AdapterModuleDict();
        embeddings.Add("word_embeddings", _word);
        embeddings.Add("position_embeddings", _position);
        embeddings.Add("LayerNorm", _norm);
        register_module("embeddings", embeddings);
        var layers = new AdapterModuleDict();
        _layers = new DistilBertLayer[config.NumHiddenLayers];
        for (var i = 0; i < _layers.Length; i++)
        {
            _layers[i] = new DistilBertLayer(config, i, Setup, device, dtype);
            layers.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture), _layers[i]);
        }
        var transformer = new AdapterModuleDict();
        transformer.Add("layer", layers);
        register_module("transformer", transformer);
        RegisterAdapterContainers();
        InitWeights();
        DeviceRecord.Align(this, device);
    }

    /// <summary>The architecture.</summary>
    public EncoderConfig Config { get; }

    /// <inheritdoc />
    public override string ModelClassName => "DistilBertAdapterModel";

    /// <inheritdoc />
    public override string? ModelName => Config.NameOrPath;

    /// <inheritdoc />
    protected override AdapterModelInterface CreateInterface() =>
        new(Config.ModelType, "distilbert", Config.HiddenSize, _layers.Select(l => l.Describe()).ToArray());

    /// <inheritdoc />
    public Parameter WordEmbeddings => _word.weight!;

    /// <inheritdoc />
    protected override bool SupportsPromptTuning => true;

    /// <inheritdoc />
    public EncoderOutput Encode(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        Forward(inputIds, attentionMask);

    /// <summary>Runs the encoder on token ids (B, S); the mask is 1 for tokens to attend to.</summary>
    public EncoderOutput Forward(Tensor inputIds, Tensor? attentionMask = null)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        using var adapterForward = BeginAdapterForward(attentionMask);
        var positions = arange(inputIds.shape[1], ScalarType.Int64, inputIds.device).unsqueeze(0);
        var hidden = _norm.call(_word.call(inputIds) + _position.call(positions));
        hidden = nn.functional.dropout(hidden, Config.HiddenDropoutProb, training);
        hidden = ApplyInvertibleAdapter(hidden);
        (hidden, attentionMask) = ApplyPromptTuning(hidden, attentionMask);
        foreach (var layer in _layers) hidden = layer.Forward(hidden, attentionMask);
        return new EncoderOutput(hidden, null) { AdapterOutputs = adapterForward.Outputs };
    }

    private void InitWeights()
    {
        using var _ = no_grad();
        var std = Config.InitializerRange;
        foreach (var layer in _layers)
        {
            foreach (var linear in new[] { layer.Query, layer.Key, layer.Value, layer.Lin1, layer.Lin2 })
            {
                nn.init.normal_(linear.weight, 0.0, std);
                nn.init.zeros_(linear.bias!);
            }
            nn.init.normal_(layer.OutLin.weight, 0.0, std);
            nn.init.zeros_(layer.OutLin.bias!);
        }
        nn.init.normal_(_word.weight!, 0.0, std);
        nn.init.normal_(_position.weight!, 0.0, std);
        _word.weight![Config.PadTokenId].zero_();
    }
}
