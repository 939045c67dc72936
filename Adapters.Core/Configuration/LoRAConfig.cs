using System.Text.Json.Nodes;
using static Adapters.Core.Configuration.ConfigValues;

namespace Adapters.Core.Configuration;

/// <summary>
/// The LoRA family (Python's <c>LoRAConfig</c>, architecture <c>"lora"</c>), also used by IA³, DoRA and VeRA, which
/// only change defaults. Like Python, a config read back from JSON is always a plain <see cref="LoRAConfig"/>.
/// </summary>
public record LoRAConfig : AdapterConfig
{
    /// <inheritdoc />
    public override string? Architecture => "lora";

    /// <summary><c>selfattn_lora</c>: adapt the self-attention projections listed in <see cref="AttnMatrices"/>.</summary>
    public bool SelfattnLora { get; init; } = true;
    /// <summary><c>intermediate_lora</c>: adapt the first FFN projection.</summary>
    public bool IntermediateLora { get; init; }
    /// <summary><c>output_lora</c>: adapt the second FFN projection.</summary>
    public bool OutputLora { get; init; }
    /// <summary><c>leave_out</c>: layer indices that get no LoRA.</summary>
    public IReadOnlyList<int> LeaveOut { get; init; } = [];
    /// <summary><c>r</c>: the rank.</summary>
    public int R { get; init; } = 8;
    /// <summary><c>alpha</c>: the scale numerator (alpha / r; alpha alone for IA³).</summary>
    public int Alpha { get; init; } = 8;
    /// <summary><c>dropout</c> on the LoRA input.</summary>
    public double Dropout { get; init; }
    /// <summary><c>attn_matrices</c>: any of "q", "k", "v" ("o" is accepted and ignored, as in Python).</summary>
    public IReadOnlyList<string> AttnMatrices { get; init; } = ["q", "v"];
    /// <summary><c>composition_mode</c>: "add" (LoRA) or "scale" (IA³).</summary>
    public string CompositionMode { get; init; } = "add";
    /// <summary><c>init_weights</c>: "lora", "bert", "ia3" or "vera".</summary>
    public string InitWeights { get; init; } = "lora";
    /// <summary><c>init_weights_seed</c>.</summary>
    public int? InitWeightsSeed { get; init; }
    /// <summary><c>use_gating</c>: a sigmoid gate replaces the alpha/r scale.</summary>
    public bool UseGating { get; init; }
    /// <summary><c>use_dora</c>: weight-decomposed LoRA.</summary>
    public bool UseDora { get; init; }
    /// <summary><c>vera_d</c>: VeRA's initial d; a value selects VeRA.</summary>
    public double? VeraD { get; init; }
    /// <summary><c>vera_b</c>: VeRA's initial b; a value selects VeRA.</summary>
    public double? VeraB { get; init; }
    /// <summary><c>dtype</c>: the parameter dtype name, e.g. "bfloat16", or null for the model's.</summary>
    public string? Dtype { get; init; }

    /// <summary>Whether this config builds VeRA modules (Python checks whether vera_d or vera_b is a float).</summary>
    public bool IsVera => VeraD is not null || VeraB is not null;

    internal static readonly IReadOnlyList<ConfigField<LoRAConfig>> Fields =
    [
        new("selfattn_lora", c => Bool(c.SelfattnLora), (c, v) => c with { SelfattnLora = ReadBool(v, "selfattn_lora") }),
        new("intermediate_lora", c => Bool(c.IntermediateLora), (c, v) => c with { IntermediateLora = ReadBool(v, "intermediate_lora") }),
        new("output_lora", c => Bool(c.OutputLora), (c, v) => c with { OutputLora = ReadBool(v, "output_lora") }),
        new("leave_out", c => IntList(c.LeaveOut), (c, v) => c with { LeaveOut = ReadIntList(v, "leave_out") }),
        new("r", c => Int(c.R), (c, v) => c with { R = ReadInt(v, "r") }),
        new("alpha", c => Int(c.Alpha), (c, v) => c with { Alpha = ReadInt(v, "alpha") }),
        new("dropout", c => Float(c.Dropout), (c, v) => c with { Dropout = ReadFloat(v, "dropout") }),
        new("attn_matrices", c => StringList(c.AttnMatrices), (c, v) => c with { AttnMatrices = ReadStringList(v, "attn_matrices") }),
        new("composition_mode", c => String(c.CompositionMode), (c, v) => c with { CompositionMode = ReadString(v, "composition_mode") }),
        new("init_weights", c => String(c.InitWeights), (c, v) => c with { InitWeights = ReadString(v, "init_weights") }),
        new("init_weights_seed", c => OptionalInt(c.InitWeightsSeed), (c, v) => c with { InitWeightsSeed = ReadOptionalInt(v, "init_weights_seed") }),
        new("use_gating", c => Bool(c.UseGating), (c, v) => c with { UseGating = ReadBool(v, "use_gating") }),
        new("use_dora", c => Bool(c.UseDora), (c, v) => c with { UseDora = ReadBool(v, "use_dora") }),
        new("vera_d", c => OptionalFloat(c.VeraD), (c, v) => c with { VeraD = ReadOptionalFloat(v, "vera_d") }),
        new("vera_b", c => OptionalFloat(c.VeraB), (c, v) => c with { VeraB = ReadOptionalFloat(v, "vera_b") }),
        new("dtype", c => String(c.Dtype), (c, v) => c with { Dtype = ReadOptionalString(v, "dtype") }),
    ];

    /// <inheritdoc />
    public override JsonObject ToJson() => ConfigField<LoRAConfig>.Write(this, Fields, Architecture);

    /// <inheritdoc />
    public override AdapterConfig Replace(JsonObject changes) => ConfigField<LoRAConfig>.Apply(this, changes, Fields, keepUnknown: false);

    /// <summary>Builds a <see cref="LoRAConfig"/> from a JSON dict (Python's <c>LoRAConfig.from_dict</c>).</summary>
    public static LoRAConfig FromDictionary(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return ConfigField<LoRAConfig>.Apply(new LoRAConfig(), json, Fields, keepUnknown: true);
    }
}
