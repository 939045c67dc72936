using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Generation;
using Adapters.Core.Methods;
using Adapters.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Heads;

/// <summary>
/// A flex prediction head built from its <c>head_config.json</c> dict the way Python's <c>PredictionHead.build</c>
/// does, so its parameters sit at the same indices (<c>heads.NAME.1.weight</c>, <c>heads.NAME.4.weight</c> for a
/// two-layer classifier; <c>.0</c>, <c>.2</c>, <c>.3</c> for a masked- or causal-LM head).
/// Supported <c>head_type</c>s: classification, multilabel_classification, tagging, question_answering, masked_lm,
/// causal_lm, as far as the base model offers them (<see cref="HeadBackboneFacts.HeadTypes"/>).
/// </summary>
public sealed class PredictionHead : nn.Module
{
    private readonly List<Func<Tensor, Tensor>> _steps = [];
    private readonly Linear? _decoder;

    /// <summary>Builds the head for <paramref name="model"/> from <paramref name="config"/> (Python's head config dict).</summary>
    /// <exception cref="AdapterConfigException">The head type is unknown, not offered by the model, or a field is invalid.</exception>
    public PredictionHead(JsonObject config, IHeadBackbone model) : base(nameof(PredictionHead))
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(model);
        Config = (JsonObject)config.DeepClone();
        HeadType = ConfigValues.ReadString(Config["head_type"], "head_type");
        var facts = model.HeadFacts;
        if (!facts.HeadTypes.Contains(HeadType))
            throw new AdapterConfigException($"Head type \"{HeadType}\" is not offered by {model.GetType().Name}; expected {string.Join(", ", facts.HeadTypes)}.");
        var hidden = facts.HiddenSize;
        var layers = ConfigValues.ReadInt(Config["layers"], "layers");
        var activation = Config["activation_function"] is JsonValue a && a.GetValueKind() == JsonValueKind.String ? a.GetValue<string>() : null;
        var bias = Config["bias"] is not JsonValue b || b.GetValueKind() != JsonValueKind.False;
        var index = 0;

        if (HeadType is "masked_lm" or "causal_lm")
        {
            var embedding = Config.ContainsKey("embedding_size") ? ConfigValues.ReadInt(Config["embedding_size"], "embedding_size") : hidden;
            var vocab = ConfigValues.ReadInt(Config["vocab_size"], "vocab_size");
            var layerNorm = Config["layer_norm"] is JsonValue ln && ln.GetValueKind() == JsonValueKind.True;
            for (var layer = 0; layer < layers; layer++)
            {
                if (layer < layers - 1)
                {
                    AddLinear(ref index, hidden, embedding, true, facts.InitializerRange);
                    if (activation is not null) AddActivation(ref index, activation);
                    if (layerNorm)
                    {
                        var norm = nn.LayerNorm(embedding, facts.LayerNormEps);
                        register_module(index++.ToString(CultureInfo.InvariantCulture), norm);
                        _steps.Add(x => norm.call(x));
                    }
                }
                else
                {
                    _decoder = nn.Linear(embedding, vocab, bias);
                    if (facts.TieWordEmbeddings && embedding == hidden && vocab == model.WordEmbeddings.shape[0])
                    {
                        // Python ties the decoder to the input embeddings unless the config unties them.
                        _decoder.weight = model.WordEmbeddings;
                        TiedDecoderKey = index.ToString(CultureInfo.InvariantCulture) + ".weight";
                    }
                    if (bias) using (no_grad()) _decoder.bias!.zero_();
                    register_module(index++.ToString(CultureInfo.InvariantCulture), _decoder);
                }
            }
            return;
        }

        if (HeadType is not ("classification" or "multilabel_classification" or "tagging" or "question_answering"))
            throw new AdapterConfigException($"Head type \"{HeadType}\" is not supported; expected classification, multilabel_classification, tagging, question_answering, masked_lm or causal_lm.");
        var numLabels = ConfigValues.ReadInt(Config["num_labels"], "num_labels");
        var dropout = Config["dropout_prob"] is JsonValue d && d.GetValueKind() == JsonValueKind.Number
            ? PythonJson.ToDouble(d)
            : facts.HiddenDropoutProb;
        for (var layer = 0; layer < layers; layer++)
        {
            index++;
            _steps.Add(x => nn.functional.dropout(x, dropout, training));
            if (layer < layers - 1)
            {
                AddLinear(ref index, hidden, hidden, true, facts.InitializerRange);
                if (activation is not null) AddActivation(ref index, activation);
            }
            else
            {
                AddLinear(ref index, hidden, numLabels, bias, facts.InitializerRange);
            }
        }
    }

    /// <summary>The head's config dict, as written to <c>head_config.json</c>.</summary>
    public JsonObject Config { get; }

    /// <summary>The state-dict key of a decoder weight tied to the input embeddings, or null.</summary>
    public string? TiedDecoderKey { get; }

    /// <summary><c>head_type</c>.</summary>
    public string HeadType { get; }

    /// <summary><c>use_pooler</c>: classification reads the pooled output instead of the first token.</summary>
    public bool UsePooler => Config["use_pooler"] is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    /// <summary><c>shift_labels</c>: a causal-LM head scores each position against the next token.</summary>
    public bool ShiftLabels => Config["shift_labels"] is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    /// <summary>Labels by id from <c>label2id</c>, or null when the head has none.</summary>
    public IReadOnlyDictionary<int, string>? Id2Label =>
        Config["label2id"] is JsonObject map
            ? map.ToDictionary(p => ConfigValues.ReadInt(p.Value, "label2id"), p => p.Key)
            : null;

    /// <summary>
    /// Applies the head to the model output and returns logits. Classification reads the pooler output when
    /// <see cref="UsePooler"/>, else <see cref="EncoderOutput.ClsOutput"/> (a decoder's last non-padding token), else the
    /// first token.
    /// </summary>
    public Tensor Forward(EncoderOutput output, AdapterModel model)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(model);
        var x = HeadType switch
        {
            "classification" or "multilabel_classification" =>
                UsePooler ? output.PoolerOutput ?? throw new InvalidOperationException("use_pooler is set but the model has no pooler.")
                          : output.ClsOutput ?? output.LastHiddenState.select(1, 0),
            _ => output.LastHiddenState,
        };
        foreach (var step in _steps) x = step(x);
        if (_decoder is not null) x = _decoder.call(model.ApplyInvertibleAdapterInverse(x));
        return x;
    }

    /// <summary>
    /// The loss Python's head computes: CE (MSE for one label), BCE-with-logits for multilabel, CE on tokens for tagging
    /// and MLM, and for a causal-LM head with <c>shift_labels</c> CE of each position on the next token's label.
    /// </summary>
    public Tensor Loss(Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        return HeadType switch
        {
            "classification" when logits.shape[^1] == 1 => nn.functional.mse_loss(logits.reshape(-1), labels.to(logits.dtype).reshape(-1)),
            "classification" => nn.functional.cross_entropy(logits, labels),
            "multilabel_classification" => nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype)),
            "causal_lm" when ShiftLabels => CausalLMLoss.Compute(logits, AdapterModel.AlignLabelsWithPrompt(labels, logits.shape[1])),
            _ => nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), labels.reshape(-1), ignore_index: -100),
        };
    }

    private void AddLinear(ref int index, long inFeatures, long outFeatures, bool bias, double std)
    {
        var linear = nn.Linear(inFeatures, outFeatures, bias);
        WeightInit.Bert(linear, std);
        register_module(index++.ToString(CultureInfo.InvariantCulture), linear);
        _steps.Add(x => linear.call(x));
    }

    private void AddActivation(ref int index, string name)
    {
        var function = Activation.Get(name);
        index++;
        _steps.Add(function);
    }

    /// <summary>Children are registered under their Python indices only.</summary>
    protected override void RegisterComponents() { }
}
