using System.Text.Json.Nodes;
using static Adapters.Core.Configuration.ConfigValues;

namespace Adapters.Core.Configuration;

/// <summary>
/// Prefix tuning (Python's <c>PrefixTuningConfig</c>, architecture <c>"prefix_tuning"</c>): trainable key/value
/// prefixes prepended in every attention layer. With <see cref="Flat"/> (alias <c>"prefix_tuning_flat"</c>) the prefixes
/// are free parameters; otherwise an MLP produces them from <see cref="PrefixLength"/> embeddings (alias
/// <c>"prefix_tuning"</c>).
/// </summary>
public record PrefixTuningConfig : AdapterConfig
{
    /// <inheritdoc />
    public override string? Architecture => "prefix_tuning";

    /// <summary><c>encoder_prefix</c>: add prefixes to the encoder of encoder-decoder models.</summary>
    public bool EncoderPrefix { get; init; } = true;
    /// <summary><c>cross_prefix</c>: add prefixes to cross-attention of encoder-decoder models.</summary>
    public bool CrossPrefix { get; init; } = true;
    /// <summary><c>leave_out</c>: layer indices that get no prefix (they also shrink the MLP output).</summary>
    public IReadOnlyList<int> LeaveOut { get; init; } = [];
    /// <summary><c>flat</c>: free prefix parameters instead of the reparameterising MLP.</summary>
    public bool Flat { get; init; }
    /// <summary><c>prefix_length</c>: number of prefix positions P.</summary>
    public int PrefixLength { get; init; } = 30;
    /// <summary><c>bottleneck_size</c>: hidden width of the reparameterising MLP.</summary>
    public int BottleneckSize { get; init; } = 512;
    /// <summary><c>non_linearity</c>: activation of the MLP.</summary>
    public string NonLinearity { get; init; } = "tanh";
    /// <summary><c>dropout</c> on the generated prefixes.</summary>
    public double Dropout { get; init; }
    /// <summary><c>use_gating</c>: a UniPELT gate per layer scales the prefixes.</summary>
    public bool UseGating { get; init; }
    /// <summary><c>shared_gating</c>: one gate value for keys and values (else two).</summary>
    public bool SharedGating { get; init; } = true;
    /// <summary><c>init_weights_seed</c>: reseed the generator before creating the prefix module.</summary>
    public int? InitWeightsSeed { get; init; }

    internal static readonly IReadOnlyList<ConfigField<PrefixTuningConfig>> Fields =
    [
        new("encoder_prefix", c => Bool(c.EncoderPrefix), (c, v) => c with { EncoderPrefix = ReadBool(v, "encoder_prefix") }),
        new("cross_prefix", c => Bool(c.CrossPrefix), (c, v) => c with { CrossPrefix = ReadBool(v, "cross_prefix") }),
        new("leave_out", c => IntList(c.LeaveOut), (c, v) => c with { LeaveOut = ReadIntList(v, "leave_out") }),
        new("flat", c => Bool(c.Flat), (c, v) => c with { Flat = ReadBool(v, "flat") }),
        new("prefix_length", c => Int(c.PrefixLength), (c, v) => c with { PrefixLength = ReadInt(v, "prefix_length") }),
        new("bottleneck_size", c => Int(c.BottleneckSize), (c, v) => c with { BottleneckSize = ReadInt(v, "bottleneck_size") }),
        new("non_linearity", c => String(c.NonLinearity), (c, v) => c with { NonLinearity = ReadString(v, "non_linearity") }),
        new("dropout", c => Float(c.Dropout), (c, v) => c with { Dropout = ReadFloat(v, "dropout") }),
        new("use_gating", c => Bool(c.UseGating), (c, v) => c with { UseGating = ReadBool(v, "use_gating") }),
        new("shared_gating", c => Bool(c.SharedGating), (c, v) => c with { SharedGating = ReadBool(v, "shared_gating") }),
        new("init_weights_seed", c => OptionalInt(c.InitWeightsSeed), (c, v) => c with { InitWeightsSeed = ReadOptionalInt(v, "init_weights_seed") }),
    ];

    /// <inheritdoc />
    public override JsonObject ToJson() => ConfigField<PrefixTuningConfig>.Write(this, Fields, Architecture);

    /// <inheritdoc />
    public override AdapterConfig Replace(JsonObject changes) => ConfigField<PrefixTuningConfig>.Apply(this, changes, Fields, keepUnknown: false);

    /// <summary>Builds a <see cref="PrefixTuningConfig"/> from a JSON dict (Python's <c>from_dict</c>).</summary>
    public static PrefixTuningConfig FromDictionary(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return ConfigField<PrefixTuningConfig>.Apply(new PrefixTuningConfig(), json, Fields, keepUnknown: true);
    }

    /// <summary>Checks the values a model needs before building modules.</summary>
    /// <exception cref="AdapterConfigException">A size is not positive or a probability is outside [0, 1).</exception>
    internal void Validate()
    {
        if (PrefixLength <= 0) throw new AdapterConfigException($"prefix_tuning prefix_length must be positive, got {PrefixLength}.");
        if (!Flat && BottleneckSize <= 0) throw new AdapterConfigException($"prefix_tuning bottleneck_size must be positive, got {BottleneckSize}.");
        if (Dropout is < 0 or >= 1) throw new AdapterConfigException($"prefix_tuning dropout must be in [0, 1), got {Dropout}.");
    }
}
