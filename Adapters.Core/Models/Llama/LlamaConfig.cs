using System.Globalization;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;

namespace Adapters.Core.Models.Llama;

/// <summary>
/// The architecture of a Llama-family decoder read from a transformers <c>config.json</c>. One class covers
/// <c>llama</c>, <c>mistral</c> (sliding-window attention) and <c>qwen2</c> (q/k/v biases, sliding window above
/// <c>max_window_layers</c>); defaults are transformers' for each type.
/// </summary>
public sealed record LlamaConfig
{
    /// <summary><c>model_type</c>: llama, mistral or qwen2.</summary>
    public string ModelType { get; init; } = "llama";
    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; } = 32000;
    /// <summary><c>hidden_size</c>.</summary>
    public int HiddenSize { get; init; } = 4096;
    /// <summary><c>intermediate_size</c>.</summary>
    public int IntermediateSize { get; init; } = 11008;
    /// <summary><c>num_hidden_layers</c>.</summary>
    public int NumHiddenLayers { get; init; } = 32;
    /// <summary><c>num_attention_heads</c>.</summary>
    public int NumAttentionHeads { get; init; } = 32;
    /// <summary><c>num_key_value_heads</c> (grouped-query attention); defaults to the attention heads.</summary>
    public int? NumKeyValueHeads { get; init; }
    /// <summary><c>head_dim</c>; defaults to hidden_size / num_attention_heads.</summary>
    public int? HeadDimOverride { get; init; }
    /// <summary><c>hidden_act</c> of the gated MLP.</summary>
    public string HiddenAct { get; init; } = "silu";
    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;
    /// <summary><c>rms_norm_eps</c>.</summary>
    public double RmsNormEps { get; init; } = 1e-6;
    /// <summary><c>rope_theta</c>.</summary>
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary><c>rope_scaling</c>, or null for plain RoPE.</summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary><c>attention_bias</c>: biases on q, k, v and o (Llama, Mistral). Qwen2 always has q/k/v biases.</summary>
    public bool AttentionBias { get; init; }
    /// <summary><c>mlp_bias</c>.</summary>
    public bool MlpBias { get; init; }
    /// <summary><c>attention_dropout</c>.</summary>
    public double AttentionDropout { get; init; }
    /// <summary><c>tie_word_embeddings</c>: the LM head reuses <c>embed_tokens.weight</c>.</summary>
    public bool TieWordEmbeddings { get; init; }
    /// <summary><c>sliding_window</c> (Mistral, Qwen2); null for full attention.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Qwen2 <c>use_sliding_window</c>.</summary>
    public bool UseSlidingWindow { get; init; }
    /// <summary>Qwen2 <c>max_window_layers</c>: layers from this index on use the sliding window.</summary>
    public int MaxWindowLayers { get; init; } = 28;
    /// <summary><c>initializer_range</c>.</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary><c>bos_token_id</c>.</summary>
    public long? BosTokenId { get; init; } = 1;
    /// <summary><c>eos_token_id</c> (one or several).</summary>
    public IReadOnlyList<long> EosTokenIds { get; init; } = [2];
    /// <summary><c>pad_token_id</c>.</summary>
    public long? PadTokenId { get; init; }
    /// <summary><c>torch_dtype</c> (or <c>dtype</c>) as written, e.g. bfloat16.</summary>
    public string? TorchDtype { get; init; }
    /// <summary><c>_name_or_path</c>.</summary>
    public string? NameOrPath { get; init; }

    /// <summary>Key/value heads actually used.</summary>
    public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;

    /// <summary>The per-head width.</summary>
    public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;

    /// <summary>Whether q, k and v carry biases (Qwen2 always; Llama/Mistral with <c>attention_bias</c>).</summary>
    public bool QkvBias => ModelType == "qwen2" || AttentionBias;

    /// <summary>Whether the output projection carries a bias (<c>attention_bias</c>; never for Qwen2).</summary>
    public bool OutputBias => ModelType != "qwen2" && AttentionBias;

    /// <summary>
    /// Whether the adapter "intermediate" LoRA location is <c>up_proj</c>. Python's Llama and Mistral mixins wrap
    /// <c>down_proj</c> as "intermediate" and <c>up_proj</c> as "output"; its Qwen2 plugin interface does the opposite.
    /// </summary>
    public bool IntermediateIsUpProj => ModelType == "qwen2";

    /// <summary>The sliding window of layer <paramref name="layer"/>, or null for full attention there.</summary>
    public int? SlidingWindowFor(int layer) => ModelType switch
    {
        "mistral" => SlidingWindow,
        "qwen2" => UseSlidingWindow && layer >= MaxWindowLayers ? SlidingWindow : null,
        _ => null,
    };

    /// <summary>The Python adapter model class written as <c>model_class</c>.</summary>
    public string AdapterModelClass => ModelType switch
    {
        "mistral" => "MistralAdapterModel",
        "qwen2" => "Qwen2ForCausalLM",
        _ => "LlamaAdapterModel",
    };

    /// <summary>Parses a <c>config.json</c> of model type llama, mistral or qwen2.</summary>
    /// <exception cref="AdapterConfigException">Invalid JSON, an unsupported model type or rope_scaling, or a field of the wrong type.</exception>
    public static LlamaConfig Parse(string json, string sourceName = "config.json")
    {
        var r = new HfConfigReader(json, sourceName);
        var type = r.ModelType ?? throw new AdapterConfigException($"{sourceName} has no \"model_type\".");
        if (type is not ("llama" or "mistral" or "qwen2"))
            throw new AdapterConfigException($"{sourceName}: model_type \"{type}\" is not a Llama-family decoder; expected llama, mistral or qwen2.");
        var (hidden, intermediate, maxPositions, eps, window, tie, bos, eos) = type switch
        {
            "mistral" => (4096, 14336, 4096 * 32, 1e-6, (int?)4096, false, (long?)1, 2L),
            "qwen2" => (4096, 22016, 32768, 1e-6, (int?)4096, false, (long?)null, 151643L),
            _ => (4096, 11008, 2048, 1e-6, (int?)null, false, (long?)1, 2L),
        };
        var eosIds = r.TokenIds("eos_token_id");
        var bosIds = r.TokenIds("bos_token_id");
        var padIds = r.TokenIds("pad_token_id");
        var config = new LlamaConfig
        {
            ModelType = type,
            NameOrPath = r.Str("_name_or_path"),
            VocabSize = r.Int("vocab_size", type == "qwen2" ? 151936 : 32000),
            HiddenSize = r.Int("hidden_size", hidden),
            IntermediateSize = r.Int("intermediate_size", intermediate),
            NumHiddenLayers = r.Int("num_hidden_layers", 32),
            NumAttentionHeads = r.Int("num_attention_heads", 32),
            NumKeyValueHeads = r.OptionalInt("num_key_value_heads") ?? (type == "mistral" ? 8 : null),
            HeadDimOverride = r.OptionalInt("head_dim"),
            HiddenAct = r.Str("hidden_act") ?? "silu",
            MaxPositionEmbeddings = r.Int("max_position_embeddings", maxPositions),
            RmsNormEps = r.Float("rms_norm_eps", eps),
            RopeTheta = r.Float("rope_theta", 10000.0),
            RopeScaling = ParseRopeScaling(r, sourceName),
            AttentionBias = r.Bool("attention_bias", false),
            MlpBias = r.Bool("mlp_bias", false),
            AttentionDropout = r.Float("attention_dropout", 0.0),
            TieWordEmbeddings = r.Bool("tie_word_embeddings", tie),
            SlidingWindow = r.Has("sliding_window") ? r.OptionalInt("sliding_window") : window,
            UseSlidingWindow = r.Bool("use_sliding_window", false),
            MaxWindowLayers = r.Int("max_window_layers", 28),
            InitializerRange = r.Float("initializer_range", 0.02),
            BosTokenId = bosIds.Count > 0 ? bosIds[0] : bos,
            EosTokenIds = eosIds.Count > 0 ? eosIds : [eos],
            PadTokenId = padIds.Count > 0 ? padIds[0] : null,
            TorchDtype = r.Str("torch_dtype") ?? r.Str("dtype"),
        };
        if (config.HiddenSize % config.NumAttentionHeads != 0 && config.HeadDimOverride is null)
            throw new AdapterConfigException($"{sourceName}: hidden_size {config.HiddenSize} is not a multiple of num_attention_heads {config.NumAttentionHeads} and no head_dim is given.");
        if (config.NumAttentionHeads % config.KeyValueHeads != 0)
            throw new AdapterConfigException($"{sourceName}: num_attention_heads {config.NumAttentionHeads} is not a multiple of num_key_value_heads {config.KeyValueHeads}.");
        return config;
    }

    /// <summary>Reads and parses a <c>config.json</c> file.</summary>
    public static LlamaConfig Read(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>The config as transformers writes it (the fields this port reads).</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(ModelType switch { "mistral" => "MistralForCausalLM", "qwen2" => "Qwen2ForCausalLM", _ => "LlamaForCausalLM" }),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = KeyValueHeads,
            ["hidden_act"] = HiddenAct,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["attention_bias"] = AttentionBias,
            ["mlp_bias"] = MlpBias,
            ["attention_dropout"] = AttentionDropout,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["initializer_range"] = InitializerRange,
            ["eos_token_id"] = EosTokenIds.Count == 1 ? JsonValue.Create(EosTokenIds[0]) : new JsonArray(EosTokenIds.Select(id => (JsonNode)JsonValue.Create(id)).ToArray()),
        };
        if (HeadDimOverride is { } headDim) json["head_dim"] = headDim;
        if (BosTokenId is { } bosId) json["bos_token_id"] = bosId;
        if (PadTokenId is { } padId) json["pad_token_id"] = padId;
        if (TorchDtype is { } dtype) json["torch_dtype"] = dtype;
        if (ModelType != "llama") json["sliding_window"] = SlidingWindow is { } w ? JsonValue.Create(w) : null;
        if (ModelType == "qwen2")
        {
            json["use_sliding_window"] = UseSlidingWindow;
            json["max_window_layers"] = MaxWindowLayers;
        }
        if (RopeScaling is { } scaling)
        {
            var rope = new JsonObject { ["rope_type"] = scaling.Type, ["factor"] = scaling.Factor };
            if (scaling.Type == "llama3")
            {
                rope["low_freq_factor"] = scaling.LowFreqFactor;
                rope["high_freq_factor"] = scaling.HighFreqFactor;
                rope["original_max_position_embeddings"] = scaling.OriginalMaxPositionEmbeddings;
            }
            json["rope_scaling"] = rope;
        }
        return json;
    }

    private static RopeScaling? ParseRopeScaling(HfConfigReader r, string sourceName)
    {
        if (r["rope_scaling"] is not JsonObject rope) return null;
        var type = (rope["rope_type"] ?? rope["type"])?.GetValue<string>() ?? "default";
        double Number(string key, double fallback) => rope[key] is { } node ? ConfigValues.ReadFloat(node, $"rope_scaling.{key}") : fallback;
        return type switch
        {
            "default" => null,
            "linear" or "dynamic" => new RopeScaling(type, Number("factor", 1.0)),
            "llama3" => new RopeScaling(type, Number("factor", 8.0), Number("low_freq_factor", 1.0), Number("high_freq_factor", 4.0),
                (int)Number("original_max_position_embeddings", 8192)),
            _ => throw new AdapterConfigException(
                string.Create(CultureInfo.InvariantCulture, $"{sourceName}: rope_scaling type \"{type}\" is not supported; this port implements linear, dynamic and llama3.")),
        };
    }
}
