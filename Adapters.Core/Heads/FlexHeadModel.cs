using System.Globalization;
using System.Text.Json.Nodes;
using Adapters.Core.Methods;
using Adapters.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Heads;

/// <summary>
/// A base model with named prediction heads, in the role of Python's <c>BertAdapterModel</c> or
/// <c>GPT2AdapterModel</c>: the model sits under its base prefix (<c>bert.</c>, <c>transformer.</c>, <c>model.</c>) and
/// heads under <c>heads.NAME</c>, so both adapter and head keys match Python's files.
/// Heads named like the last active adapter are used by default, as Python's <c>parse_heads_from_composition</c> does.
/// </summary>
public sealed partial class FlexHeadModel : nn.Module
{
    private readonly AdapterModuleDict _heads = new();
    private readonly IHeadBackbone _backbone;

    /// <summary>Wraps <paramref name="baseModel"/>, which must be an <see cref="IHeadBackbone"/> (every encoder and decoder here is).</summary>
    public FlexHeadModel(AdapterModel baseModel) : base(nameof(FlexHeadModel))
    {
        BaseModel = baseModel ?? throw new ArgumentNullException(nameof(baseModel));
        _backbone = baseModel as IHeadBackbone
            ?? throw new ArgumentException($"{baseModel.GetType().Name} does not implement {nameof(IHeadBackbone)}, which heads need.", nameof(baseModel));
        register_module(baseModel.Interface.BaseModelPrefix, baseModel);
        register_module("heads", _heads);
    }

    /// <summary>The base model with its adapters.</summary>
    public AdapterModel BaseModel { get; }

    /// <summary>Head names in the order they were added.</summary>
    public IReadOnlyList<string> HeadNames => _heads.Names;

    /// <summary>The head used when <see cref="Forward"/> is not given one; null follows the active adapters.</summary>
    public string? ActiveHead { get; set; }

    /// <summary>The head named <paramref name="name"/>.</summary>
    public PredictionHead GetHead(string name) =>
        _heads.Get<PredictionHead>(name) ?? throw new ArgumentException($"No head named \"{name}\".", nameof(name));

    /// <summary>Adds a sentence classification head (Python's <c>add_classification_head</c>).</summary>
    public PredictionHead AddClassificationHead(string name, int numLabels = 2, int layers = 2, string? activationFunction = "tanh",
        IReadOnlyDictionary<int, string>? id2label = null, bool usePooler = false, bool multilabel = false, bool bias = true, double? dropoutProb = null) =>
        AddHead(name, new JsonObject
        {
            ["head_type"] = multilabel ? "multilabel_classification" : "classification",
            ["num_labels"] = numLabels,
            ["layers"] = layers,
            ["activation_function"] = activationFunction,
            ["label2id"] = Label2Id(id2label, numLabels),
            ["use_pooler"] = usePooler,
            ["bias"] = bias,
            ["dropout_prob"] = dropoutProb is { } p ? JsonValue.Create(p) : null,
        });

    /// <summary>Adds a token tagging head (Python's <c>add_tagging_head</c>).</summary>
    public PredictionHead AddTaggingHead(string name, int numLabels = 2, int layers = 1, string? activationFunction = "tanh",
        IReadOnlyDictionary<int, string>? id2label = null, double? dropoutProb = null) =>
        AddHead(name, TokenHead("tagging", numLabels, layers, activationFunction, id2label, dropoutProb));

    /// <summary>Adds an extractive question-answering head (Python's <c>add_qa_head</c>).</summary>
    public PredictionHead AddQaHead(string name, int numLabels = 2, int layers = 1, string? activationFunction = "tanh",
        IReadOnlyDictionary<int, string>? id2label = null, double? dropoutProb = null) =>
        AddHead(name, TokenHead("question_answering", numLabels, layers, activationFunction, id2label, dropoutProb));

    /// <summary>Adds a masked-LM head tied to the input embeddings (Python's <c>add_masked_lm_head</c>).</summary>
    public PredictionHead AddMaskedLmHead(string name, string? activationFunction = "gelu", int layers = 2) =>
        AddHead(name, LanguageModelHead("masked_lm", shiftLabels: false, activationFunction, layers));

    /// <summary>
    /// Adds a causal-LM head (Python's <c>add_causal_lm_head</c>): the masked-LM layout with <c>shift_labels</c>, its
    /// decoder tied to the input embeddings unless the model unties them (<c>tie_word_embeddings=false</c>).
    /// </summary>
    public PredictionHead AddCausalLmHead(string name, string? activationFunction = "gelu", int layers = 2) =>
        AddHead(name, LanguageModelHead("causal_lm", shiftLabels: true, activationFunction, layers));

    // Python's masked-LM and causal-LM heads share one config layout; only the type and label shifting differ.
    private JsonObject LanguageModelHead(string headType, bool shiftLabels, string? activationFunction, int layers) => new()
    {
        ["head_type"] = headType,
        ["vocab_size"] = _backbone.HeadFacts.VocabSize,
        ["embedding_size"] = _backbone.HeadFacts.HiddenSize,
        ["layers"] = layers,
        ["activation_function"] = activationFunction,
        ["layer_norm"] = true,
        ["bias"] = true,
        ["shift_labels"] = shiftLabels,
        ["label2id"] = null,
    };

    /// <summary>Adds a head from its config dict (e.g. the <c>config</c> of a <c>head_config.json</c>).</summary>
    public PredictionHead AddHead(string name, JsonObject config)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_heads.Contains(name)) throw new ArgumentException($"A head named \"{name}\" already exists.", nameof(name));
        var head = new PredictionHead(config, _backbone);
        var first = BaseModel.parameters().FirstOrDefault();
        if (first is not null)
        {
            head.to(first.device);
            head.to(first.dtype);
        }
        head.train(training);
        _heads.Add(name, head);
        return head;
    }

    /// <summary>Removes a head.</summary>
    public void DeleteHead(string name)
    {
        if (!_heads.Remove(name)) throw new ArgumentException($"No head named \"{name}\".", nameof(name));
        if (ActiveHead == name) ActiveHead = null;
        if (ActiveHeadSetup?.Heads.Contains(name) == true) ActiveHeadSetup = null;
    }

    /// <summary>
    /// Runs the base model and one head: <paramref name="head"/>, else the heads of a <see cref="UseAdapterSetup"/> scope,
    /// else <see cref="ActiveHead"/>, else <see cref="ActiveHeadSetup"/>, else the last active adapter's name.
    /// </summary>
    /// <exception cref="InvalidOperationException">No head applies, or the setup routes to several heads (use <see cref="ForwardHeads"/>).</exception>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null, string? head = null)
    {
        var setup = head is not null ? new HeadSetup([head]) : CurrentHeadSetup()
            ?? throw new InvalidOperationException("No head given, none active, and no head is named like an active adapter.");
        if (setup.Heads.Count > 1)
            throw new InvalidOperationException($"The active setup routes to several heads ({string.Join(", ", setup.Heads)}); use ForwardHeads.");
        var output = _backbone.EncodeForHeads(inputIds, attentionMask, tokenTypeIds);
        return GetHead(setup.Heads[0]).Forward(output, BaseModel);
    }

    /// <summary>
    /// The decoder with causal-LM head <paramref name="head"/> as an <see cref="Generation.ICausalLM"/>, for
    /// <see cref="Generation.TextGenerator"/> (cached generation, as Python's decoder AdapterModels generate).
    /// </summary>
    /// <exception cref="ArgumentException">No such head, it is not a causal-LM head, or the base model is not a decoder.</exception>
    public HeadCausalLM AsCausalLM(string head)
    {
        var module = GetHead(head);
        if (module.HeadType != "causal_lm") throw new ArgumentException($"Head \"{head}\" is a {module.HeadType} head; generation needs a causal_lm head.", nameof(head));
        var decoder = BaseModel as Generation.IDecoderStack
            ?? throw new ArgumentException($"{BaseModel.GetType().Name} is not a decoder; generation needs GPT-2, Llama, Mistral or Qwen2.", nameof(head));
        return new HeadCausalLM(BaseModel, decoder, module);
    }

    /// <summary>The head's tensors keyed as Python saves them: <c>heads.NAME.INDEX.weight</c>.</summary>
    public Dictionary<string, Tensor> GetHeadStateDict(string name)
    {
        var head = GetHead(name);
        return head.state_dict().ToDictionary(p => $"heads.{name}.{p.Key}", p => p.Value.detach(), StringComparer.Ordinal);
    }

    /// <summary>The <c>head_config.json</c> document Python would write.</summary>
    public HeadConfigFile CreateHeadConfigFile(string name) =>
        HeadConfigFile.Create(GetHead(name).Config, name, BaseModel.Interface.ModelType, BaseModel.Interface.HiddenSize,
            BaseModel.ModelClassName, BaseModel.ModelName);

    /// <summary>
    /// Loads a saved head: it is built from the file's config, named <paramref name="loadAs"/> (default: the saved
    /// name), and filled from weights keyed <c>heads.SAVEDNAME.*</c>. Missing weights fail; others are reported.
    /// A static head saved from a transformers class (<c>"name": null</c>) is converted to the equivalent flex
    /// head as Python does, named <paramref name="loadAs"/> or <c>default</c>.
    /// </summary>
    /// <exception cref="AdapterLoadException">Weights are missing or have the wrong shape; the head is not kept.</exception>
    public AdapterLoadResult LoadHeadStateDict(HeadConfigFile file, IReadOnlyDictionary<string, Tensor> weights, string? loadAs = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(weights);
        var saved = file.Name;
        var config = file.Document["config"] as JsonObject;
        if (saved is null || config is null)
        {
            saved = loadAs ?? "default";
            (config, var renamed) = StaticHeadConversion.Convert(file, weights, saved);
            weights = renamed;
        }
        var name = loadAs ?? saved;
        var head = AddHead(name, config);
        try
        {
            var targets = head.state_dict();
            var provided = new HashSet<string>(StringComparer.Ordinal);
            var unexpected = new List<string>();
            using (no_grad())
            {
                foreach (var (key, tensor) in weights)
                {
                    var prefix = $"heads.{saved}.";
                    if (!key.StartsWith(prefix, StringComparison.Ordinal) || !targets.TryGetValue(key[prefix.Length..], out var target))
                    {
                        unexpected.Add(key);
                        continue;
                    }
                    if (!target.shape.SequenceEqual(tensor.shape))
                        throw new AdapterLoadException($"Head weight \"{key}\" has shape [{string.Join(", ", tensor.shape)}] but the head expects [{string.Join(", ", target.shape)}].");
                    target.copy_(tensor);
                    provided.Add(key[prefix.Length..]);
                }
            }
            var missing = targets.Keys.Where(k => !provided.Contains(k) && !IsTiedDecoder(head, k)).Select(k => $"heads.{name}.{k}").ToArray();
            if (missing.Length > 0) throw new AdapterLoadException($"Head \"{saved}\" is missing weight(s): {string.Join(", ", missing)}.");
            return new AdapterLoadResult(name, missing, unexpected);
        }
        catch
        {
            DeleteHead(name);
            throw;
        }
    }

    /// <summary>Children are registered under Python's names only.</summary>
    protected override void RegisterComponents() { }

    private static bool IsTiedDecoder(PredictionHead head, string key) => key == head.TiedDecoderKey;

    private static JsonObject TokenHead(string type, int numLabels, int layers, string? activation, IReadOnlyDictionary<int, string>? id2label, double? dropoutProb) => new()
    {
        ["head_type"] = type,
        ["num_labels"] = numLabels,
        ["layers"] = layers,
        ["activation_function"] = activation,
        ["label2id"] = Label2Id(id2label, numLabels),
        ["dropout_prob"] = dropoutProb is { } p ? JsonValue.Create(p) : null,
    };

    private static JsonObject Label2Id(IReadOnlyDictionary<int, string>? id2label, int numLabels)
    {
        var result = new JsonObject();
        if (id2label is null)
        {
            for (var i = 0; i < numLabels; i++) result[string.Create(CultureInfo.InvariantCulture, $"LABEL_{i}")] = i;
        }
        else
        {
            foreach (var (id, label) in id2label) result[label] = id;
        }
        return result;
    }
}
