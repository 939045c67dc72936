using System.Text.Json.Nodes;
using Adapters.Core.Configuration;

namespace Adapters.Core.Models.Gpt2;

/// <summary>The architecture of GPT-2 read from a transformers <c>config.json</c> (<c>model_type</c> gpt2), with transformers' defaults.</summary>
public sealed record Gpt2Config
{
    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; } = 50257;
    /// <summary><c>n_positions</c>: learned position embeddings.</summary>
    public int NPositions { get; init; } = 1024;
    /// <summary><c>n_embd</c>: the hidden width.</summary>
    public int NEmbd { get; init; } = 768;
    /// <summary><c>n_layer</c>.</summary>
    public int NLayer { get; init; } = 12;
    /// <summary><c>n_head</c>.</summary>
    public int NHead { get; init; } = 12;
    /// <summary><c>n_inner</c>: the MLP width; null means 4 × n_embd.</summary>
    public int? NInner { get; init; }
    /// <summary><c>activation_function</c> (gelu_new is the tanh approximation).</summary>
    public string ActivationFunction { get; init; } = "gelu_new";
    /// <summary><c>resid_pdrop</c>.</summary>
    public double ResidPdrop { get; init; } = 0.1;
    /// <summary><c>embd_pdrop</c>.</summary>
    public double EmbdPdrop { get; init; } = 0.1;
    /// <summary><c>attn_pdrop</c>.</summary>
    public double AttnPdrop { get; init; } = 0.1;
    /// <summary><c>layer_norm_epsilon</c>.</summary>
    public double LayerNormEpsilon { get; init; } = 1e-5;
    /// <summary><c>initializer_range</c>.</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary><c>scale_attn_weights</c>: divide scores by √head_dim.</summary>
    public bool ScaleAttnWeights { get; init; } = true;
    /// <summary><c>scale_attn_by_inverse_layer_idx</c>: also divide scores by layer_idx + 1.</summary>
    public bool ScaleAttnByInverseLayerIdx { get; init; }
    /// <summary><c>bos_token_id</c>.</summary>
    public long BosTokenId { get; init; } = 50256;
    /// <summary><c>eos_token_id</c>.</summary>
    public long EosTokenId { get; init; } = 50256;
    /// <summary><c>pad_token_id</c>, if set.</summary>
    public long? PadTokenId { get; init; }
    /// <summary><c>torch_dtype</c> as written.</summary>
    public string? TorchDtype { get; init; }
    /// <summary><c>_name_or_path</c>.</summary>
    public string? NameOrPath { get; init; }

    /// <summary>The MLP width.</summary>
    public int InnerSize => NInner ?? 4 * NEmbd;

    /// <summary>Parses a gpt2 <c>config.json</c>.</summary>
    /// <exception cref="AdapterConfigException">Invalid JSON, another model type, or a field of the wrong type.</exception>
    public static Gpt2Config Parse(string json, string sourceName = "config.json")
    {
        var r = new HfConfigReader(json, sourceName);
        if (r.ModelType != "gpt2")
            throw new AdapterConfigException($"{sourceName}: model_type \"{r.ModelType}\" is not gpt2.");
        if (r.Bool("reorder_and_upcast_attn", false))
            throw new AdapterConfigException($"{sourceName}: reorder_and_upcast_attn=true is not supported.");
        if (r.Bool("add_cross_attention", false))
            throw new AdapterConfigException($"{sourceName}: add_cross_attention=true is not supported; GPT-2 here is decoder-only.");
        var pad = r.TokenIds("pad_token_id");
        var config = new Gpt2Config
        {
            NameOrPath = r.Str("_name_or_path"),
            VocabSize = r.Int("vocab_size", 50257),
            NPositions = r.Int("n_positions", 1024),
            NEmbd = r.Int("n_embd", 768),
            NLayer = r.Int("n_layer", 12),
            NHead = r.Int("n_head", 12),
            NInner = r.OptionalInt("n_inner"),
            ActivationFunction = r.Str("activation_function") ?? "gelu_new",
            ResidPdrop = r.Float("resid_pdrop", 0.1),
            EmbdPdrop = r.Float("embd_pdrop", 0.1),
            AttnPdrop = r.Float("attn_pdrop", 0.1),
            LayerNormEpsilon = r.Float("layer_norm_epsilon", 1e-5),
            InitializerRange = r.Float("initializer_range", 0.02),
            ScaleAttnWeights = r.Bool("scale_attn_weights", true),
            ScaleAttnByInverseLayerIdx = r.Bool("scale_attn_by_inverse_layer_idx", false),
            BosTokenId = r.Int("bos_token_id", 50256),
            EosTokenId = r.Int("eos_token_id", 50256),
            PadTokenId = pad.Count > 0 ? pad[0] : null,
            TorchDtype = r.Str("torch_dtype") ?? r.Str("dtype"),
        };
        if (config.NEmbd % config.NHead != 0)
            throw new AdapterConfigException($"{sourceName}: n_embd {config.NEmbd} is not a multiple of n_head {config.NHead}.");
        return config;
    }

    /// <summary>Reads and parses a <c>config.json</c> file.</summary>
    public static Gpt2Config Read(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>The config as transformers writes it (the fields this port reads).</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["model_type"] = "gpt2",
            ["vocab_size"] = VocabSize,
            ["n_positions"] = NPositions,
            ["n_embd"] = NEmbd,
            ["n_layer"] = NLayer,
            ["n_head"] = NHead,
            ["n_inner"] = NInner is { } inner ? JsonValue.Create(inner) : null,
            ["activation_function"] = ActivationFunction,
            ["resid_pdrop"] = ResidPdrop,
            ["embd_pdrop"] = EmbdPdrop,
            ["attn_pdrop"] = AttnPdrop,
            ["layer_norm_epsilon"] = LayerNormEpsilon,
            ["initializer_range"] = InitializerRange,
            ["scale_attn_weights"] = ScaleAttnWeights,
            ["scale_attn_by_inverse_layer_idx"] = ScaleAttnByInverseLayerIdx,
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenId,
        };
        if (PadTokenId is { } padId) json["pad_token_id"] = padId;
        if (TorchDtype is { } dtype) json["torch_dtype"] = dtype;
        return json;
    }
}
