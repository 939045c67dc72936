using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using static Adapters.Core.Configuration.ConfigValues;

namespace Adapters.Core.Configuration;

/// <summary>
/// A bottleneck adapter (Python's <c>BnConfig</c>; no <c>"architecture"</c> key in JSON). The presets
/// <see cref="SeqBnConfig"/>, <see cref="DoubleSeqBnConfig"/>, <see cref="ParBnConfig"/>, <see cref="AdapterPlusConfig"/>,
/// <see cref="CompacterConfig"/> and friends only change defaults.
/// </summary>
public record BnConfig : AdapterConfig
{
    /// <summary>Creates a bottleneck config from Python's four required fields; every other field has its default.</summary>
    [SetsRequiredMembers]
    public BnConfig(bool mhAdapter, bool outputAdapter, ReductionFactor reductionFactor, string nonLinearity)
    {
        MhAdapter = mhAdapter;
        OutputAdapter = outputAdapter;
        ReductionFactor = reductionFactor;
        NonLinearity = nonLinearity;
    }

    /// <inheritdoc />
    public override string? Architecture => null;

    /// <summary><c>mh_adapter</c>: an adapter after the multi-head attention block.</summary>
    public required bool MhAdapter { get; init; }
    /// <summary><c>output_adapter</c>: an adapter after the feed-forward block.</summary>
    public required bool OutputAdapter { get; init; }
    /// <summary><c>reduction_factor</c>: hidden size ÷ bottleneck size, uniform or per layer.</summary>
    public required ReductionFactor ReductionFactor { get; init; }
    /// <summary><c>non_linearity</c>: the activation between down and up projection (transformers' names).</summary>
    public required string NonLinearity { get; init; }
    /// <summary><c>original_ln_before</c>: add the residual and apply the pretrained LayerNorm before the adapter.</summary>
    public bool OriginalLnBefore { get; init; }
    /// <summary><c>original_ln_after</c>: add the residual and apply the pretrained LayerNorm after the adapter.</summary>
    public bool OriginalLnAfter { get; init; } = true;
    /// <summary><c>ln_before</c>: a new LayerNorm at the adapter input.</summary>
    public bool LnBefore { get; init; }
    /// <summary><c>ln_after</c>: a new LayerNorm at the adapter output.</summary>
    public bool LnAfter { get; init; }
    /// <summary><c>init_weights</c>: "bert", "mam_adapter" or "houlsby".</summary>
    public string InitWeights { get; init; } = "bert";
    /// <summary><c>init_weights_seed</c>: reseed the generator before each module's init (identical layers).</summary>
    public int? InitWeightsSeed { get; init; }
    /// <summary><c>is_parallel</c>: a parallel adapter reading the sub-block input.</summary>
    public bool IsParallel { get; init; }
    /// <summary><c>scaling</c>: factor on the up-projection output.</summary>
    public BottleneckScaling Scaling { get; init; } = 1.0;
    /// <summary><c>use_gating</c>: a sigmoid gate on the adapter output.</summary>
    public bool UseGating { get; init; }
    /// <summary><c>residual_before_ln</c>: true, false or "post_add" (stored as a JSON value).</summary>
    public JsonNode ResidualBeforeLn { get; init; } = JsonValue.Create(true);
    /// <summary><c>adapter_residual_before_ln</c>: add the residual before <c>ln_after</c>.</summary>
    public bool AdapterResidualBeforeLn { get; init; }
    /// <summary><c>inv_adapter</c>: "nice" or "glow" invertible adapter on the embeddings, or null.</summary>
    public string? InvAdapter { get; init; }
    /// <summary><c>inv_adapter_reduction_factor</c>.</summary>
    public PyNumber? InvAdapterReductionFactor { get; init; }
    /// <summary><c>cross_adapter</c>: an adapter after cross-attention (encoder-decoder models).</summary>
    public bool CrossAdapter { get; init; }
    /// <summary><c>leave_out</c>: layer indices that get no adapter.</summary>
    public IReadOnlyList<int> LeaveOut { get; init; } = [];
    /// <summary><c>dropout</c> on the scaled up-projection.</summary>
    public double Dropout { get; init; }
    /// <summary><c>phm_layer</c>: Compacter PHM projections instead of linear layers.</summary>
    public bool PhmLayer { get; init; }
    /// <summary><c>phm_dim</c>: number of Kronecker summands n.</summary>
    public int PhmDim { get; init; } = 4;
    /// <summary><c>factorized_phm_W</c>: W_i as a low-rank product.</summary>
    public bool FactorizedPhmW { get; init; } = true;
    /// <summary><c>shared_W_phm</c>: W shared across layers.</summary>
    public bool SharedWPhm { get; init; }
    /// <summary><c>shared_phm_rule</c>: the rule matrices C shared across layers.</summary>
    public bool SharedPhmRule { get; init; } = true;
    /// <summary><c>factorized_phm_rule</c>: C as a rank-one product.</summary>
    public bool FactorizedPhmRule { get; init; }
    /// <summary><c>phm_c_init</c>: "normal" or "uniform".</summary>
    public string PhmCInit { get; init; } = "normal";
    /// <summary><c>phm_init_range</c>.</summary>
    public double PhmInitRange { get; init; } = 0.0001;
    /// <summary><c>learn_phm</c>: the rule matrices are trainable.</summary>
    public bool LearnPhm { get; init; } = true;
    /// <summary><c>hypercomplex_nonlinearity</c>: W init ("glorot-uniform" in name; Python runs xavier_normal).</summary>
    public string HypercomplexNonlinearity { get; init; } = "glorot-uniform";
    /// <summary><c>phm_rank</c>: rank of the factorised W.</summary>
    public int PhmRank { get; init; } = 1;
    /// <summary><c>phm_bias</c>: PHM layers have a bias.</summary>
    public bool PhmBias { get; init; } = true;
    /// <summary><c>stochastic_depth</c>: row-wise drop-path probability on the adapter output.</summary>
    public double StochasticDepth { get; init; }

    /// <summary>Whether <c>residual_before_ln</c> is truthy (true or "post_add").</summary>
    public bool ResidualBeforeLnIsTruthy =>
        ResidualBeforeLn is JsonValue v && (v.GetValueKind() == System.Text.Json.JsonValueKind.String || v.GetValueKind() == System.Text.Json.JsonValueKind.True);

    /// <summary>Whether <c>residual_before_ln</c> is exactly <c>"post_add"</c>.</summary>
    public bool ResidualBeforeLnIsPostAdd =>
        ResidualBeforeLn is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String && v.GetValue<string>() == "post_add";

    internal static readonly IReadOnlyList<ConfigField<BnConfig>> Fields =
    [
        new("mh_adapter", c => Bool(c.MhAdapter), (c, v) => c with { MhAdapter = ReadBool(v, "mh_adapter") }),
        new("output_adapter", c => Bool(c.OutputAdapter), (c, v) => c with { OutputAdapter = ReadBool(v, "output_adapter") }),
        new("reduction_factor", c => c.ReductionFactor.ToJson(), (c, v) => c with { ReductionFactor = ReductionFactor.FromJson(v, "reduction_factor") }),
        new("non_linearity", c => String(c.NonLinearity), (c, v) => c with { NonLinearity = ReadString(v, "non_linearity") }),
        new("original_ln_before", c => Bool(c.OriginalLnBefore), (c, v) => c with { OriginalLnBefore = ReadBool(v, "original_ln_before") }),
        new("original_ln_after", c => Bool(c.OriginalLnAfter), (c, v) => c with { OriginalLnAfter = ReadBool(v, "original_ln_after") }),
        new("ln_before", c => Bool(c.LnBefore), (c, v) => c with { LnBefore = ReadBool(v, "ln_before") }),
        new("ln_after", c => Bool(c.LnAfter), (c, v) => c with { LnAfter = ReadBool(v, "ln_after") }),
        new("init_weights", c => String(c.InitWeights), (c, v) => c with { InitWeights = ReadString(v, "init_weights") }),
        new("init_weights_seed", c => OptionalInt(c.InitWeightsSeed), (c, v) => c with { InitWeightsSeed = ReadOptionalInt(v, "init_weights_seed") }),
        new("is_parallel", c => Bool(c.IsParallel), (c, v) => c with { IsParallel = ReadBool(v, "is_parallel") }),
        new("scaling", c => c.Scaling.ToJson(), (c, v) => c with { Scaling = BottleneckScaling.FromJson(v, "scaling") }),
        new("use_gating", c => Bool(c.UseGating), (c, v) => c with { UseGating = ReadBool(v, "use_gating") }),
        new("residual_before_ln", c => c.ResidualBeforeLn.DeepClone(), (c, v) => c with { ResidualBeforeLn = ReadResidualBeforeLn(v) }),
        new("adapter_residual_before_ln", c => Bool(c.AdapterResidualBeforeLn), (c, v) => c with { AdapterResidualBeforeLn = ReadBool(v, "adapter_residual_before_ln") }),
        new("inv_adapter", c => String(c.InvAdapter), (c, v) => c with { InvAdapter = ReadOptionalString(v, "inv_adapter") }),
        new("inv_adapter_reduction_factor", c => c.InvAdapterReductionFactor?.ToJson(), (c, v) => c with { InvAdapterReductionFactor = v is null ? null : PyNumber.FromJson(v, "inv_adapter_reduction_factor") }),
        new("cross_adapter", c => Bool(c.CrossAdapter), (c, v) => c with { CrossAdapter = ReadBool(v, "cross_adapter") }),
        new("leave_out", c => IntList(c.LeaveOut), (c, v) => c with { LeaveOut = ReadIntList(v, "leave_out") }),
        new("dropout", c => Float(c.Dropout), (c, v) => c with { Dropout = ReadFloat(v, "dropout") }),
        new("phm_layer", c => Bool(c.PhmLayer), (c, v) => c with { PhmLayer = ReadBool(v, "phm_layer") }),
        new("phm_dim", c => Int(c.PhmDim), (c, v) => c with { PhmDim = ReadInt(v, "phm_dim") }),
        new("factorized_phm_W", c => Bool(c.FactorizedPhmW), (c, v) => c with { FactorizedPhmW = ReadBool(v, "factorized_phm_W") }),
        new("shared_W_phm", c => Bool(c.SharedWPhm), (c, v) => c with { SharedWPhm = ReadBool(v, "shared_W_phm") }),
        new("shared_phm_rule", c => Bool(c.SharedPhmRule), (c, v) => c with { SharedPhmRule = ReadBool(v, "shared_phm_rule") }),
        new("factorized_phm_rule", c => Bool(c.FactorizedPhmRule), (c, v) => c with { FactorizedPhmRule = ReadBool(v, "factorized_phm_rule") }),
        new("phm_c_init", c => String(c.PhmCInit), (c, v) => c with { PhmCInit = ReadString(v, "phm_c_init") }),
        new("phm_init_range", c => Float(c.PhmInitRange), (c, v) => c with { PhmInitRange = ReadFloat(v, "phm_init_range") }),
        new("learn_phm", c => Bool(c.LearnPhm), (c, v) => c with { LearnPhm = ReadBool(v, "learn_phm") }),
        new("hypercomplex_nonlinearity", c => String(c.HypercomplexNonlinearity), (c, v) => c with { HypercomplexNonlinearity = ReadString(v, "hypercomplex_nonlinearity") }),
        new("phm_rank", c => Int(c.PhmRank), (c, v) => c with { PhmRank = ReadInt(v, "phm_rank") }),
        new("phm_bias", c => Bool(c.PhmBias), (c, v) => c with { PhmBias = ReadBool(v, "phm_bias") }),
        new("stochastic_depth", c => Float(c.StochasticDepth), (c, v) => c with { StochasticDepth = ReadFloat(v, "stochastic_depth") }),
    ];

    /// <inheritdoc />
    public override JsonObject ToJson() => ConfigField<BnConfig>.Write(this, Fields, Architecture);

    /// <inheritdoc />
    public override AdapterConfig Replace(JsonObject changes) => ConfigField<BnConfig>.Apply(this, changes, Fields, keepUnknown: false);

    /// <summary>Builds a <see cref="BnConfig"/> from a JSON dict (Python's <c>BnConfig.from_dict</c>).</summary>
    /// <exception cref="AdapterConfigException">A required field is missing or a value has the wrong type.</exception>
    public static BnConfig FromDictionary(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var values = (JsonObject)json.DeepClone();
        // Version-1 configs nest the invertible adapter; BnConfig.__setattr__ flattens it.
        if (values.Remove("invertible_adapter", out var legacy) && legacy is JsonObject inv)
        {
            values["inv_adapter"] = inv["block_type"]?.DeepClone();
            values["inv_adapter_reduction_factor"] = inv["reduction_factor"]?.DeepClone();
        }
        foreach (var required in new[] { "mh_adapter", "output_adapter", "reduction_factor", "non_linearity" })
        {
            if (!values.ContainsKey(required))
                throw new AdapterConfigException($"Bottleneck config is missing the required field '{required}'.");
        }
        var seed = new BnConfig(false, false, 16, "relu");
        return ConfigField<BnConfig>.Apply(seed, values, Fields, keepUnknown: true);
    }

    private static JsonNode ReadResidualBeforeLn(JsonNode? node)
    {
        if (node is JsonValue value)
        {
            var kind = value.GetValueKind();
            if (kind is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False) return value.DeepClone();
            if (kind == System.Text.Json.JsonValueKind.String && value.GetValue<string>() == "post_add") return value.DeepClone();
        }
        throw Invalid("residual_before_ln", node, "true, false or \"post_add\"");
    }
}
