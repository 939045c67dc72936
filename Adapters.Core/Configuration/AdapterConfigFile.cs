using System.Text;
using System.Text.Json.Nodes;

namespace Adapters.Core.Configuration;

/// <summary>
/// The contents of an <c>adapter_config.json</c> as the adapters library writes it:
/// <c>{"config": {...}, "hidden_size", "model_class", "model_name", "model_type", "name", "version", ...}</c>.
/// The document keeps every key it was read with, so reading and writing a file gives the same bytes.
/// </summary>
public sealed class AdapterConfigFile
{
    /// <summary>The file name Python uses.</summary>
    public const string FileName = "adapter_config.json";

    /// <summary>The version string written by this port, in the adapters library's form.</summary>
    public const string CurrentVersion = "adapters.1.2.0";

    private static readonly Dictionary<string, string> s_activationRename = new(StringComparer.Ordinal)
    {
        ["gelu"] = "gelu_new",
        ["gelu_orig"] = "gelu",
    };

    private AdapterConfigFile(JsonObject document) => Document = document;

    /// <summary>The whole JSON document; changes to it are written by <see cref="ToJsonString"/>.</summary>
    public JsonObject Document { get; }

    /// <summary><c>name</c>: the adapter name used inside the weight keys.</summary>
    public string? Name => Document["name"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary><c>version</c>: <c>"adapters.X"</c>, a bare adapter-transformers version, or null for old files.</summary>
    public string? Version => Document["version"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary><c>model_type</c>, e.g. <c>"bert"</c>.</summary>
    public string? ModelType => Document["model_type"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary><c>hidden_size</c>, or null when absent.</summary>
    public int? HiddenSize => ReadHidden();

    /// <summary>
    /// The method config, with Python's load-time fix-ups: configs without a version get the old activation names
    /// renamed (<c>gelu→gelu_new</c>, <c>gelu_orig→gelu</c>), and LoRA configs saved by adapters &lt; 1.1.0 with
    /// <c>r != alpha</c> get <c>alpha := r</c>.
    /// </summary>
    /// <exception cref="AdapterConfigException">The <c>config</c> entry is missing or invalid.</exception>
    public AdapterConfig GetConfig()
    {
        if (Document["config"] is not JsonObject config)
            throw new AdapterConfigException($"{FileName} has no \"config\" object.");
        config = (JsonObject)config.DeepClone();
        if (Version is null && config["non_linearity"] is JsonValue act && act.TryGetValue<string>(out var name)
            && s_activationRename.TryGetValue(name, out var renamed))
        {
            config["non_linearity"] = renamed;
        }
        // adapters < 1.1.0 left alpha/r out of the LoRA forward, so Python loads those adapters with alpha := r.
        if (Version is { } version && version.StartsWith("adapters.", StringComparison.Ordinal)
            && System.Version.TryParse(version["adapters.".Length..], out var parsed) && parsed < new System.Version(1, 1, 0)
            && config["architecture"] is JsonValue arch && arch.TryGetValue<string>(out var architecture) && architecture == "lora"
            && config["r"] is JsonValue r && config["alpha"] is JsonValue alpha
            && PythonJson.ToDouble(r) != PythonJson.ToDouble(alpha))
        {
            config["alpha"] = r.DeepClone();
        }
        return AdapterConfig.FromJson(config);
    }

    /// <summary>Builds the document Python's <c>build_full_config</c> produces for a new adapter.</summary>
    public static AdapterConfigFile Create(AdapterConfig config, string name, string modelType, int? hiddenSize, string modelClass, string? modelName)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new AdapterConfigFile(new JsonObject
        {
            ["model_type"] = modelType,
            ["hidden_size"] = hiddenSize is { } h ? JsonValue.Create((long)h) : null,
            ["model_class"] = modelClass,
            // transformers' name_or_path is "" for a model that was not loaded from a path or repo.
            ["model_name"] = modelName ?? string.Empty,
            ["name"] = name,
            ["config"] = config.ToJson(),
            ["version"] = CurrentVersion,
        });
    }

    /// <summary>Parses the JSON text of an <c>adapter_config.json</c>.</summary>
    /// <exception cref="AdapterConfigException">The text is not a JSON object.</exception>
    public static AdapterConfigFile Parse(string json, string sourceName = FileName) =>
        new(ConfigJson.Parse(json, sourceName) as JsonObject
            ?? throw new AdapterConfigException($"{sourceName} must hold a JSON object."));

    /// <summary>Reads and parses a file.</summary>
    public static AdapterConfigFile Read(string path) => Parse(File.ReadAllText(path, Encoding.UTF8), path);

    /// <summary>The bytes Python's <c>json.dump(indent=2, sort_keys=True)</c> would write.</summary>
    public string ToJsonString() => PythonJson.Serialize(Document);

    /// <summary>Writes the file through a temporary file that replaces the target only once complete.</summary>
    public void Write(string path) => AtomicFile.WriteAllText(path, ToJsonString());

    private int? ReadHidden() =>
        Document["hidden_size"] is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? ConfigValues.ReadInt(value, "hidden_size")
            : null;
}
