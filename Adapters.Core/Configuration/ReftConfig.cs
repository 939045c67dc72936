using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using static Adapters.Core.Configuration.ConfigValues;

namespace Adapters.Core.Configuration;

/// <summary>
/// Representation fine-tuning (Python's <c>ReftConfig</c>, architecture <c>"reft"</c>): low-rank interventions on the
/// first <see cref="PrefixPositions"/> and last <see cref="SuffixPositions"/> token states of each selected layer's
/// output. <see cref="LoReftConfig"/>, <see cref="NoReftConfig"/> and <see cref="DiReftConfig"/> only change defaults;
/// like Python, a config read back from JSON is always a plain <see cref="ReftConfig"/>.
/// </summary>
/// <remarks>
/// <para>
/// <b>subtract_projection.</b> Python declares <c>subtract_projection</c> without a type annotation, so it is a class
/// attribute that never reaches <c>adapter_config.json</c>, and a saved DiReFT adapter reloads with
/// <c>subtract_projection=True</c> (i.e. as NoReFT). This port does the same, so its files are Python's byte for byte
/// and a reloaded adapter computes what Python's reload computes: <see cref="ToJson"/> never writes the key, and a
/// file without it reads as <c>true</c>. A file that does carry the key (hand-written, or from older versions of this
/// port) is honoured, as Python's <c>from_dict</c> sets unknown keys as instance attributes.
/// </para>
/// </remarks>
public record ReftConfig : AdapterConfig
{
    /// <summary>Creates a ReFT config from Python's required fields; the others keep their defaults.</summary>
    [SetsRequiredMembers]
    public ReftConfig(IReadOnlyList<int>? layers, int prefixPositions, int suffixPositions, int r, bool orthogonality)
    {
        Layers = layers;
        PrefixPositions = prefixPositions;
        SuffixPositions = suffixPositions;
        R = r;
        Orthogonality = orthogonality;
    }

    /// <inheritdoc />
    public override string? Architecture => "reft";

    /// <summary><c>layers</c>: the layer indices to intervene on; null stands for Python's <c>"all"</c>.</summary>
    public required IReadOnlyList<int>? Layers { get; init; }
    /// <summary><c>prefix_positions</c>: how many leading (non-padding) positions unit 0 rewrites.</summary>
    public required int PrefixPositions { get; init; }
    /// <summary><c>suffix_positions</c>: how many trailing (non-padding) positions unit 1 rewrites.</summary>
    public required int SuffixPositions { get; init; }
    /// <summary><c>r</c>: the rank of the intervention.</summary>
    public required int R { get; init; }
    /// <summary><c>orthogonality</c>: keep the projection R orthonormal (LoReFT) through torch's orthogonal parametrization.</summary>
    public required bool Orthogonality { get; init; }
    /// <summary><c>tied_weights</c>: one unit for prefix and suffix positions instead of two.</summary>
    public bool TiedWeights { get; init; }
    /// <summary><c>dropout</c> on the whole intervened state (Python applies it to <c>h + …</c>, not only to the update).</summary>
    public double Dropout { get; init; } = 0.05;
    /// <summary><c>non_linearity</c> on the learned source; null is the identity.</summary>
    public string? NonLinearity { get; init; }
    /// <summary><c>dtype</c>: the parameter dtype name, or null for the model's.</summary>
    public string? Dtype { get; init; }
    /// <summary><c>output_reft</c>: intervene on layer outputs (the only location Python has).</summary>
    public bool OutputReft { get; init; } = true;
    /// <summary><c>init_weights_seed</c>.</summary>
    public int? InitWeightsSeed { get; init; }
    /// <summary>
    /// <c>subtract_projection</c>: subtract <c>R·h</c> from the learned source (LoReFT, NoReFT) or not (DiReFT). Never
    /// written to JSON, as in Python; see the remarks on <see cref="ReftConfig"/>.
    /// </summary>
    public bool SubtractProjection { get; init; } = true;

    internal static readonly IReadOnlyList<ConfigField<ReftConfig>> Fields =
    [
        new("layers", c => c.Layers is null ? JsonValue.Create("all") : IntList(c.Layers), (c, v) => c with { Layers = ReadLayers(v) }),
        new("prefix_positions", c => Int(c.PrefixPositions), (c, v) => c with { PrefixPositions = ReadInt(v, "prefix_positions") }),
        new("suffix_positions", c => Int(c.SuffixPositions), (c, v) => c with { SuffixPositions = ReadInt(v, "suffix_positions") }),
        new("r", c => Int(c.R), (c, v) => c with { R = ReadInt(v, "r") }),
        new("orthogonality", c => Bool(c.Orthogonality), (c, v) => c with { Orthogonality = ReadBool(v, "orthogonality") }),
        new("tied_weights", c => Bool(c.TiedWeights), (c, v) => c with { TiedWeights = ReadBool(v, "tied_weights") }),
        new("dropout", c => Float(c.Dropout), (c, v) => c with { Dropout = ReadFloat(v, "dropout") }),
        new("non_linearity", c => String(c.NonLinearity), (c, v) => c with { NonLinearity = ReadOptionalString(v, "non_linearity") }),
        new("dtype", c => String(c.Dtype), (c, v) => c with { Dtype = ReadOptionalString(v, "dtype") }),
        new("output_reft", c => Bool(c.OutputReft), (c, v) => c with { OutputReft = ReadBool(v, "output_reft") }),
        new("init_weights_seed", c => OptionalInt(c.InitWeightsSeed), (c, v) => c with { InitWeightsSeed = ReadOptionalInt(v, "init_weights_seed") }),
    ];

    private const string SubtractProjectionKey = "subtract_projection";

    /// <summary>Whether the intervention applies to layer <paramref name="layer"/>.</summary>
    public bool AppliesTo(int layer) => Layers is null || Layers.Contains(layer);

    /// <inheritdoc />
    public override JsonObject ToJson()
    {
        var json = ConfigField<ReftConfig>.Write(this, Fields, Architecture);
        json.Remove(SubtractProjectionKey);
        return json;
    }

    /// <inheritdoc />
    public override AdapterConfig Replace(JsonObject changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var (rest, subtract) = SplitSubtractProjection(changes);
        var replaced = ConfigField<ReftConfig>.Apply(this, rest, Fields, keepUnknown: false);
        return subtract is { } s ? replaced with { SubtractProjection = s } : replaced;
    }

    /// <summary>
    /// Builds a <see cref="ReftConfig"/> from a JSON dict (Python's <c>from_dict</c>); a missing
    /// <c>subtract_projection</c> reads as true, as in Python.
    /// </summary>
    /// <exception cref="AdapterConfigException">A required field is missing or a value has the wrong type.</exception>
    public static ReftConfig FromDictionary(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        foreach (var required in new[] { "layers", "prefix_positions", "suffix_positions", "r", "orthogonality" })
        {
            if (!json.ContainsKey(required))
                throw new AdapterConfigException($"ReFT config is missing the required field '{required}'.");
        }
        var (rest, subtract) = SplitSubtractProjection(json);
        var config = ConfigField<ReftConfig>.Apply(new ReftConfig(null, 0, 0, 1, false), rest, Fields, keepUnknown: true);
        return subtract is { } s ? config with { SubtractProjection = s } : config;
    }

    /// <summary>Checks the values a model needs before building modules.</summary>
    /// <exception cref="AdapterConfigException">A value is out of range.</exception>
    internal void Validate()
    {
        if (R <= 0) throw new AdapterConfigException($"ReFT r must be positive, got {R}.");
        if (PrefixPositions < 0 || SuffixPositions < 0)
            throw new AdapterConfigException($"ReFT prefix_positions and suffix_positions must not be negative, got {PrefixPositions} and {SuffixPositions}.");
        if (Dropout is < 0 or >= 1) throw new AdapterConfigException($"ReFT dropout must be in [0, 1), got {Dropout}.");
    }

    private static (JsonObject Remaining, bool? SubtractProjection) SplitSubtractProjection(JsonObject values)
    {
        var rest = new JsonObject();
        bool? subtract = null;
        foreach (var (key, value) in values)
        {
            if (key == SubtractProjectionKey) subtract = ReadBool(value, SubtractProjectionKey);
            else rest[key] = value?.DeepClone();
        }
        return (rest, subtract);
    }

    private static IReadOnlyList<int>? ReadLayers(JsonNode? node)
    {
        if (node is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            return value.GetValue<string>() == "all" ? null : throw Invalid("layers", node, "\"all\" or a list of integers");
        }
        return ReadIntList(node, "layers");
    }
}
