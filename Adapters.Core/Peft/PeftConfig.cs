using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Serialization;

namespace Adapters.Core.Peft;

/// <summary>
/// Any PEFT <c>adapter_config.json</c>, kept as the document it was read from so that every field (including fields of
/// newer PEFT releases this port does not model) is written back unchanged. Typed readers take PEFT's defaults for
/// absent fields; the method (<see cref="PeftMethodRegistry"/>, keyed by <see cref="PeftType"/>) decides which fields
/// it understands.
/// </summary>
public sealed class PeftConfig
{
    /// <summary>PEFT's config file name.</summary>
    public const string FileName = "adapter_config.json";

    private PeftConfig(JsonObject document, string source)
    {
        Document = document;
        Source = source;
    }

    /// <summary>The document (mutable: the tuner fills fields such as <c>fan_in_fan_out</c> as PEFT does).</summary>
    public JsonObject Document { get; }

    /// <summary>Where the config came from, for messages.</summary>
    public string Source { get; }

    /// <summary><c>peft_type</c>, e.g. "LORA".</summary>
    public string PeftType => String("peft_type") ?? throw new AdapterConfigException($"{Source}: \"peft_type\" is missing.");

    /// <summary><c>task_type</c>, e.g. "SEQ_CLS", or null.</summary>
    public string? TaskType => String("task_type");

    /// <summary>Messages about fields kept but not understood (fields of newer PEFT releases).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    private readonly List<string> _warnings = [];

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="AdapterConfigException">The file is not a JSON object with a string <c>peft_type</c>.</exception>
    public static PeftConfig Read(string path) => Parse(File.ReadAllText(path, Encoding.UTF8), path);

    /// <summary>Parses a config document; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="AdapterConfigException">See <see cref="Read"/>.</exception>
    public static PeftConfig Parse(string json, string source = FileName)
    {
        if (ConfigJson.Parse(json, source) is not JsonObject doc) throw new AdapterConfigException($"{source}: expected a JSON object.");
        var config = new PeftConfig(doc, source);
        if (config.String("peft_type") is null)
            throw new AdapterConfigException($"{source}: \"peft_type\" is missing; this is not a PEFT adapter config (PEFT needs at least peft_type).");
        return config;
    }

    /// <summary>A config built in code from <paramref name="fields"/> (PEFT's field names), e.g. for a new adapter.</summary>
    public static PeftConfig Create(string peftType, JsonObject? fields = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(peftType);
        var doc = fields is null ? new JsonObject() : (JsonObject)fields.DeepClone();
        doc["peft_type"] = peftType;
        return new PeftConfig(doc, "config");
    }

    /// <summary>A deep copy.</summary>
    public PeftConfig Clone() => new((JsonObject)Document.DeepClone(), Source);

    /// <summary>Warns (once per field) about fields outside <paramref name="known"/>, which are kept as they are.</summary>
    internal void WarnUnknown(IReadOnlySet<string> known)
    {
        foreach (var (key, _) in Document)
        {
            if (known.Contains(key) || s_commonFields.Contains(key)) continue;
            _warnings.Add($"{Source}: field \"{key}\" is not a {PeftType} field of PEFT 0.14; it is kept as it is and has no effect here.");
        }
    }

    /// <summary>Adds a warning about how this config is applied.</summary>
    internal void Note(string warning) => _warnings.Add(warning);

    private static readonly HashSet<string> s_commonFields = new(StringComparer.Ordinal)
    {
        "peft_type", "task_type", "base_model_name_or_path", "revision", "inference_mode", "auto_mapping",
        // PEFT ≥ 0.18 stamps every config with the version that wrote it; it changes nothing here.
        "peft_version",
    };

    /// <summary>A string field, or null when absent or null.</summary>
    /// <exception cref="AdapterConfigException">The field is not a string.</exception>
    public string? String(string field) => Document[field] is { } node ? ConfigValues.ReadString(node, At(field)) : null;

    /// <summary>An integer field with PEFT's default.</summary>
    /// <exception cref="AdapterConfigException">The field is not an integer.</exception>
    public int Int(string field, int fallback) => Document[field] is { } node ? ConfigValues.ReadInt(node, At(field)) : fallback;

    /// <summary>A number field with PEFT's default.</summary>
    /// <exception cref="AdapterConfigException">The field is not a number.</exception>
    public double Double(string field, double fallback) => Document[field] is { } node ? ConfigValues.ReadFloat(node, At(field)) : fallback;

    /// <summary>A boolean field with PEFT's default.</summary>
    /// <exception cref="AdapterConfigException">The field is not a boolean.</exception>
    public bool Bool(string field, bool fallback) => Document[field] is { } node ? ConfigValues.ReadBool(node, At(field)) : fallback;

    /// <summary>A field that is a boolean or a string (PEFT's <c>init_lora_weights</c>, <c>init_weights</c>), as text: "true", "false" or the string.</summary>
    public string BoolOrString(string field, bool fallback) => Document[field] switch
    {
        null => fallback ? "true" : "false",
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var other => throw new AdapterConfigException($"{Source}: \"{field}\" must be a boolean or a string, found {ConfigValues.Describe(other)}."),
    };

    /// <summary>A module selector field (<c>target_modules</c>, <c>exclude_modules</c>, <c>feedforward_modules</c>).</summary>
    public PeftModuleSelector? Selector(string field) => PeftModuleSelector.Read(Document[field], field, Source);

    /// <summary>A list of strings (<c>modules_to_save</c>), or null.</summary>
    public IReadOnlyList<string>? StringList(string field) => Document[field] is { } node ? ConfigValues.ReadStringList(node, At(field)) : null;

    /// <summary><c>layers_to_transform</c> (an int or a list), or null.</summary>
    public IReadOnlyList<int>? LayersToTransform => Document["layers_to_transform"] switch
    {
        null => null,
        JsonValue single => [ConfigValues.ReadInt(single, At("layers_to_transform"))],
        var list => ConfigValues.ReadIntList(list, At("layers_to_transform")),
    };

    /// <summary><c>layers_pattern</c> (a string or a list), or null.</summary>
    public IReadOnlyList<string>? LayersPattern => Document["layers_pattern"] switch
    {
        null => null,
        JsonValue single => [ConfigValues.ReadString(single, At("layers_pattern"))],
        var list => ConfigValues.ReadStringList(list, At("layers_pattern")),
    };

    /// <summary>A pattern dict (<c>rank_pattern</c>, <c>alpha_pattern</c>) in file order; PEFT takes the first matching key.</summary>
    public IReadOnlyList<KeyValuePair<string, JsonNode>> Pattern(string field) => Document[field] switch
    {
        null => [],
        JsonObject map => map.Select(p => new KeyValuePair<string, JsonNode>(p.Key,
            p.Value ?? throw new AdapterConfigException($"{Source}: \"{field}\" entry \"{p.Key}\" is null."))).ToArray(),
        var other => throw new AdapterConfigException($"{Source}: \"{field}\" must be an object mapping module patterns to values, found {ConfigValues.Describe(other)}."),
    };

    /// <summary>Writes the document as PEFT does (<c>json.dumps(indent=2, sort_keys=True)</c>, no trailing newline), atomically.</summary>
    public void Write(string path)
    {
        var text = Adapters.Hub.Json.PythonJson.Serialize(Document);
        AtomicFile.Write(path, stream => stream.Write(new UTF8Encoding(false).GetBytes(text)));
    }

    private string At(string field) => string.Create(CultureInfo.InvariantCulture, $"{Source}: {field}");
}
