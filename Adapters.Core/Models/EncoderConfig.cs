using System.Text.Json;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;

namespace Adapters.Core.Models;

/// <summary>
/// The architecture settings of a BERT-family encoder, read from a Hugging Face <c>config.json</c>. BERT, RoBERTa and
/// XLM-R use transformers' BERT names; DistilBERT's own names (<c>dim</c>, <c>n_layers</c>, <c>hidden_dim</c>, …) are
/// mapped onto the same properties.
/// </summary>
public sealed record EncoderConfig
{
    /// <summary><c>model_type</c>: bert, roberta, xlm-roberta or distilbert.</summary>
    public string ModelType { get; init; } = "bert";
    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; } = 30522;
    /// <summary><c>hidden_size</c> (DistilBERT <c>dim</c>).</summary>
    public int HiddenSize { get; init; } = 768;
    /// <summary><c>num_hidden_layers</c> (DistilBERT <c>n_layers</c>).</summary>
    public int NumHiddenLayers { get; init; } = 12;
    /// <summary><c>num_attention_heads</c> (DistilBERT <c>n_heads</c>).</summary>
    public int NumAttentionHeads { get; init; } = 12;
    /// <summary><c>intermediate_size</c> (DistilBERT <c>hidden_dim</c>).</summary>
    public int IntermediateSize { get; init; } = 3072;
    /// <summary><c>hidden_act</c> (DistilBERT <c>activation</c>).</summary>
    public string HiddenAct { get; init; } = "gelu";
    /// <summary><c>hidden_dropout_prob</c> (DistilBERT <c>dropout</c>).</summary>
    public double HiddenDropoutProb { get; init; } = 0.1;
    /// <summary><c>attention_probs_dropout_prob</c> (DistilBERT <c>attention_dropout</c>).</summary>
    public double AttentionProbsDropoutProb { get; init; } = 0.1;
    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;
    /// <summary><c>type_vocab_size</c> (0 for DistilBERT, which has no token types).</summary>
    public int TypeVocabSize { get; init; } = 2;
    /// <summary><c>initializer_range</c>.</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary><c>layer_norm_eps</c> (DistilBERT always 1e-12).</summary>
    public double LayerNormEps { get; init; } = 1e-12;
    /// <summary><c>pad_token_id</c>.</summary>
    public int PadTokenId { get; init; }
    /// <summary><c>_name_or_path</c>, written as <c>model_name</c> in adapter configs.</summary>
    public string? NameOrPath { get; init; }

    /// <summary>Python's <c>base_model_prefix</c> for this model type (<c>bert</c>, <c>roberta</c>, <c>distilbert</c>).</summary>
    public string BaseModelPrefix => ModelType switch
    {
        "roberta" or "xlm-roberta" => "roberta",
        "distilbert" => "distilbert",
        "big_bird" => "bigbird",
        _ => "bert",
    };

    /// <summary>Parses a <c>config.json</c>.</summary>
    /// <exception cref="AdapterConfigException">The JSON is invalid or a field has the wrong type.</exception>
    public static EncoderConfig Parse(string json, string sourceName = "config.json")
    {
        if (ConfigJson.Parse(json, sourceName) is not JsonObject obj)
            throw new AdapterConfigException($"{sourceName} must hold a JSON object.");
        var type = Str(obj, "model_type") ?? throw new AdapterConfigException($"{sourceName} has no \"model_type\".");
        var name = Str(obj, "_name_or_path");
        if (type == "distilbert")
        {
            return new EncoderConfig
            {
                ModelType = type,
                NameOrPath = name,
                VocabSize = Int(obj, "vocab_size", 30522),
                HiddenSize = Int(obj, "dim", 768),
                NumHiddenLayers = Int(obj, "n_layers", 6),
                NumAttentionHeads = Int(obj, "n_heads", 12),
                IntermediateSize = Int(obj, "hidden_dim", 3072),
                HiddenAct = Str(obj, "activation") ?? "gelu",
                HiddenDropoutProb = Float(obj, "dropout", 0.1),
                AttentionProbsDropoutProb = Float(obj, "attention_dropout", 0.1),
                MaxPositionEmbeddings = Int(obj, "max_position_embeddings", 512),
                TypeVocabSize = 0,
                InitializerRange = Float(obj, "initializer_range", 0.02),
                LayerNormEps = 1e-12,
                PadTokenId = Int(obj, "pad_token_id", 0),
            };
        }
        if (type is not ("bert" or "roberta" or "xlm-roberta"))
            throw new AdapterConfigException($"{sourceName}: model_type \"{type}\" is not supported; expected bert, roberta, xlm-roberta or distilbert.");
        return new EncoderConfig
        {
            ModelType = type,
            NameOrPath = name,
            VocabSize = Int(obj, "vocab_size", 30522),
            HiddenSize = Int(obj, "hidden_size", 768),
            NumHiddenLayers = Int(obj, "num_hidden_layers", 12),
            NumAttentionHeads = Int(obj, "num_attention_heads", 12),
            IntermediateSize = Int(obj, "intermediate_size", 3072),
            HiddenAct = Str(obj, "hidden_act") ?? "gelu",
            HiddenDropoutProb = Float(obj, "hidden_dropout_prob", 0.1),
            AttentionProbsDropoutProb = Float(obj, "attention_probs_dropout_prob", 0.1),
            MaxPositionEmbeddings = Int(obj, "max_position_embeddings", 512),
            TypeVocabSize = Int(obj, "type_vocab_size", 2),
            InitializerRange = Float(obj, "initializer_range", 0.02),
            LayerNormEps = Float(obj, "layer_norm_eps", 1e-12),
            PadTokenId = Int(obj, "pad_token_id", type == "bert" ? 0 : 1),
        };
    }

    /// <summary>Reads and parses a <c>config.json</c> file.</summary>
    public static EncoderConfig Read(string path) => Parse(File.ReadAllText(path), path);

    private static string? Str(JsonObject obj, string key) =>
        obj[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static int Int(JsonObject obj, string key, int fallback) =>
        obj.TryGetPropertyValue(key, out var node) && node is not null ? ConfigValues.ReadInt(node, key) : fallback;

    private static double Float(JsonObject obj, string key, double fallback) =>
        obj.TryGetPropertyValue(key, out var node) && node is not null ? ConfigValues.ReadFloat(node, key) : fallback;
}
