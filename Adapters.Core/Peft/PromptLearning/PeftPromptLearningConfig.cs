using System.Text;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// A PEFT config of a method that works on the model's inputs instead of replacing layers: <c>PROMPT_TUNING</c>
/// (<c>PromptTuningConfig</c>), <c>P_TUNING</c> (<c>PromptEncoderConfig</c>), <c>PREFIX_TUNING</c>
/// (<c>PrefixTuningConfig</c>) and <c>ADAPTION_PROMPT</c> (Llama-Adapter, <c>AdaptionPromptConfig</c>). Fields keep
/// PEFT's names and defaults; the document is kept whole in <see cref="Document"/>, so saving writes back every field
/// it had, including ones from newer PEFT releases.
/// </summary>
public sealed record PeftPromptLearningConfig : AdapterConfig
{
    /// <summary>PEFT's <c>peft_type</c> of prompt tuning.</summary>
    public const string PromptTuning = "PROMPT_TUNING";
    /// <summary>PEFT's <c>peft_type</c> of p-tuning.</summary>
    public const string PTuning = "P_TUNING";
    /// <summary>PEFT's <c>peft_type</c> of prefix tuning.</summary>
    public const string PrefixTuning = "PREFIX_TUNING";
    /// <summary>PEFT's <c>peft_type</c> of Llama-Adapter.</summary>
    public const string AdaptionPrompt = "ADAPTION_PROMPT";

    private static readonly HashSet<string> s_types = new(StringComparer.Ordinal) { PromptTuning, PTuning, PrefixTuning, AdaptionPrompt };

    /// <summary><c>peft_type</c>.</summary>
    public required string PeftType { get; init; }
    /// <summary><c>task_type</c>, e.g. "CAUSAL_LM", or null.</summary>
    public string? TaskType { get; init; }
    /// <summary><c>num_virtual_tokens</c> (prompt learning).</summary>
    public int NumVirtualTokens { get; init; }
    /// <summary><c>token_dim</c>: the width of a virtual token (the model's hidden size, or less for prefix tuning with grouped keys).</summary>
    public int TokenDim { get; init; }
    /// <summary><c>num_transformer_submodules</c>: 2 for encoder-decoder models, else 1.</summary>
    public int NumTransformerSubmodules { get; init; } = 1;
    /// <summary><c>num_attention_heads</c> (prefix tuning: the key/value heads).</summary>
    public int NumAttentionHeads { get; init; }
    /// <summary><c>num_layers</c>.</summary>
    public int NumLayers { get; init; }
    /// <summary><c>encoder_hidden_size</c> (prefix projection, p-tuning).</summary>
    public int EncoderHiddenSize { get; init; }
    /// <summary><c>prefix_projection</c>: the prefix comes out of a two-layer tanh MLP.</summary>
    public bool PrefixProjection { get; init; }
    /// <summary><c>encoder_reparameterization_type</c> of p-tuning: "MLP" or "LSTM".</summary>
    public string EncoderReparameterizationType { get; init; } = "MLP";
    /// <summary><c>encoder_num_layers</c> of p-tuning (LSTM layers).</summary>
    public int EncoderNumLayers { get; init; } = 2;
    /// <summary><c>encoder_dropout</c> of p-tuning.</summary>
    public double EncoderDropout { get; init; }
    /// <summary><c>prompt_tuning_init</c>: "RANDOM" or "TEXT".</summary>
    public string PromptTuningInit { get; init; } = "RANDOM";
    /// <summary><c>adapter_len</c> of Llama-Adapter.</summary>
    public int AdapterLen { get; init; }
    /// <summary><c>adapter_layers</c> of Llama-Adapter: how many of the last attention layers get a prompt.</summary>
    public int AdapterLayers { get; init; }
    /// <summary><c>inference_mode</c>: true in saved files; PEFT then builds only the saved prompt, not its encoder.</summary>
    public bool InferenceMode { get; init; } = true;
    /// <summary>The document as read or built, with every field PEFT writes.</summary>
    public required JsonObject Document { get; init; }

    /// <summary>Whether the method prepends prompt embeddings to the input (prompt tuning, p-tuning).</summary>
    public bool IsPrompt => PeftType is PromptTuning or PTuning;

    /// <summary>The number of virtual tokens over all transformer submodules (PEFT's <c>T</c>).</summary>
    public int TotalVirtualTokens => NumVirtualTokens * NumTransformerSubmodules;

    /// <inheritdoc />
    public override string? Architecture => "peft_" + PeftType.ToLowerInvariant();

    /// <summary>Whether <paramref name="peftType"/> is one of the methods this config describes.</summary>
    public static bool Handles(string? peftType) => peftType is not null && s_types.Contains(peftType);

    /// <summary>The config as PEFT's <c>to_dict()</c> returns it (a copy of <see cref="Document"/>).</summary>
    public override JsonObject ToJson() => (JsonObject)Document.DeepClone();

    /// <inheritdoc />
    public override AdapterConfig Replace(JsonObject changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var doc = ToJson();
        foreach (var (key, value) in changes)
        {
            if (!doc.ContainsKey(key)) throw new AdapterConfigException($"\"{key}\" is not a field of this PEFT {PeftType} config.");
            doc[key] = value?.DeepClone();
        }
        return FromDocument(doc, "changes");
    }

    /// <summary>Writes the config as PEFT does (<c>json.dumps(indent=2, sort_keys=True)</c>, no trailing newline), atomically.</summary>
    public void Write(string path)
    {
        var text = PythonJson.Serialize(Document);
        AtomicFile.Write(path, stream => stream.Write(new UTF8Encoding(false).GetBytes(text)));
    }

    /// <summary>
    /// A new config of <paramref name="peftType"/> with every field PEFT 0.14's dataclass has, at its default, then
    /// <paramref name="fields"/> set on top (PEFT's field names, e.g. <c>num_virtual_tokens</c>). Fields left null
    /// that depend on the model (<c>num_layers</c>, <c>token_dim</c>, …) are filled when the adapter is added.
    /// </summary>
    /// <exception cref="AdapterConfigException">The type is not one of the four methods, a field is unknown, or a value is invalid.</exception>
    public static PeftPromptLearningConfig Create(string peftType, JsonObject? fields = null)
    {
        var doc = DefaultDocument(peftType);
        foreach (var (key, value) in fields ?? [])
        {
            if (!doc.ContainsKey(key)) throw new AdapterConfigException($"\"{key}\" is not a field of PEFT's {peftType} config.");
            doc[key] = value?.DeepClone();
        }
        // num_transformer_submodules: 2 for SEQ_2_SEQ_LM, else 1 (PromptLearningConfig's fill from task_type).
        if (peftType != AdaptionPrompt && doc["num_transformer_submodules"] is null)
            doc["num_transformer_submodules"] = doc["task_type"]?.GetValue<string>() == "SEQ_2_SEQ_LM" ? 2 : 1;
        return FromDocument(doc, peftType + " config");
    }

    /// <summary>Every field of PEFT 0.14's config dataclass for <paramref name="peftType"/>, at its default.</summary>
    /// <exception cref="AdapterConfigException">The type is not one of the four methods.</exception>
    internal static JsonObject DefaultDocument(string peftType)
    {
        ArgumentNullException.ThrowIfNull(peftType);
        if (!s_types.Contains(peftType))
            throw new AdapterConfigException($"peft_type \"{peftType}\" is not a prompt-learning method (expected one of {string.Join(", ", s_types)}).");
        var doc = new JsonObject
        {
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = null,
            ["inference_mode"] = false,
            ["peft_type"] = peftType,
            ["revision"] = null,
            ["task_type"] = null,
        };
        if (peftType == AdaptionPrompt)
        {
            doc["adapter_layers"] = null;
            doc["adapter_len"] = null;
            doc["target_modules"] = null;
        }
        else
        {
            foreach (var field in new[] { "num_attention_heads", "num_layers", "num_transformer_submodules", "num_virtual_tokens", "token_dim" }) doc[field] = null;
        }
        switch (peftType)
        {
            case PromptTuning:
                doc["prompt_tuning_init"] = "RANDOM";
                doc["prompt_tuning_init_text"] = null;
                doc["tokenizer_kwargs"] = null;
                doc["tokenizer_name_or_path"] = null;
                break;
            case PrefixTuning:
                doc["encoder_hidden_size"] = null;
                doc["prefix_projection"] = false;
                break;
            case PTuning:
                doc["encoder_dropout"] = 0.0;
                doc["encoder_hidden_size"] = null;
                doc["encoder_num_layers"] = 2;
                doc["encoder_reparameterization_type"] = "MLP";
                break;
        }
        return doc;
    }

    /// <summary>Reads a PEFT config document of one of the four methods; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="AdapterConfigException">A field is missing or has the wrong type, or the method is not one of the four.</exception>
    public static PeftPromptLearningConfig FromDocument(JsonObject doc, string source)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var type = Str(doc, "peft_type", source) ?? throw new AdapterConfigException($"{source}: \"peft_type\" is missing.");
        if (!s_types.Contains(type))
            throw new AdapterConfigException($"{source}: peft_type \"{type}\" is not a prompt-learning method (expected one of {string.Join(", ", s_types)}).");
        var config = new PeftPromptLearningConfig
        {
            PeftType = type,
            TaskType = Str(doc, "task_type", source),
            InferenceMode = doc["inference_mode"] is not { } mode || ConfigValues.ReadBool(mode, "inference_mode"),
            NumVirtualTokens = Int(doc, "num_virtual_tokens") ?? 0,
            TokenDim = Int(doc, "token_dim") ?? 0,
            NumTransformerSubmodules = Int(doc, "num_transformer_submodules") ?? 1,
            NumAttentionHeads = Int(doc, "num_attention_heads") ?? 0,
            NumLayers = Int(doc, "num_layers") ?? 0,
            EncoderHiddenSize = Int(doc, "encoder_hidden_size") ?? Int(doc, "token_dim") ?? 0,
            PrefixProjection = doc["prefix_projection"] is { } projection && ConfigValues.ReadBool(projection, "prefix_projection"),
            EncoderReparameterizationType = Str(doc, "encoder_reparameterization_type", source) ?? "MLP",
            EncoderNumLayers = Int(doc, "encoder_num_layers") ?? 2,
            EncoderDropout = doc["encoder_dropout"] is { } dropout ? ConfigValues.ReadFloat(dropout, "encoder_dropout") : 0,
            PromptTuningInit = Str(doc, "prompt_tuning_init", source) ?? "RANDOM",
            AdapterLen = Int(doc, "adapter_len") ?? 0,
            AdapterLayers = Int(doc, "adapter_layers") ?? 0,
            Document = (JsonObject)doc.DeepClone(),
        };
        config.Validate(source);
        return config;
    }

    private void Validate(string source)
    {
        if (PeftType == AdaptionPrompt)
        {
            // AdaptionPromptConfig: both are required and must be positive.
            if (AdapterLen <= 0) throw new AdapterConfigException($"{source}: adapter_len must be a positive integer, found {Document["adapter_len"]?.ToJsonString() ?? "null"}.");
            if (AdapterLayers <= 0) throw new AdapterConfigException($"{source}: adapter_layers must be a positive integer, found {Document["adapter_layers"]?.ToJsonString() ?? "null"}.");
            return;
        }
        if (NumVirtualTokens <= 0) throw new AdapterConfigException($"{source}: num_virtual_tokens must be a positive integer, found {Document["num_virtual_tokens"]?.ToJsonString() ?? "null"}.");
        if (NumTransformerSubmodules is not (1 or 2)) throw new AdapterConfigException($"{source}: num_transformer_submodules must be 1 or 2, found {NumTransformerSubmodules}.");
        if (PeftType == PTuning && EncoderReparameterizationType is not ("MLP" or "LSTM"))
            throw new AdapterConfigException($"{source}: encoder_reparameterization_type \"{EncoderReparameterizationType}\" is not MLP or LSTM.");
        if (PeftType == PromptTuning && PromptTuningInit is not ("RANDOM" or "TEXT"))
            throw new AdapterConfigException($"{source}: prompt_tuning_init \"{PromptTuningInit}\" is not RANDOM or TEXT.");
        if (PeftType == PromptTuning && PromptTuningInit == "TEXT")
        {
            // PromptTuningConfig.__post_init__'s checks.
            if (Document["tokenizer_name_or_path"] is null)
                throw new AdapterConfigException($"{source}: When prompt_tuning_init='TEXT', tokenizer_name_or_path can't be None.");
            if (Document["prompt_tuning_init_text"] is null)
                throw new AdapterConfigException($"{source}: When prompt_tuning_init='TEXT', prompt_tuning_init_text can't be None.");
        }
    }

    private static int? Int(JsonObject doc, string field) => doc[field] is { } node ? ConfigValues.ReadInt(node, field) : null;

    private static string? Str(JsonObject doc, string field, string source) => doc[field] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        var other => throw new AdapterConfigException($"{source}: \"{field}\" must be a string or null, found {ConfigValues.Describe(other)}."),
    };
}
