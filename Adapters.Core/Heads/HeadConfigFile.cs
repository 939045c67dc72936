using System.Text;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;

namespace Adapters.Core.Heads;

/// <summary>
/// A <c>head_config.json</c> as the adapters library writes it (<c>{"config": {...}, "hidden_size", "model_class",
/// "model_name", "model_type", "name", "version"}</c>), kept as read so a round trip gives the same bytes.
/// </summary>
public sealed class HeadConfigFile
{
    /// <summary>The file name Python uses.</summary>
    public const string FileName = "head_config.json";

    private HeadConfigFile(JsonObject document) => Document = document;

    /// <summary>The whole JSON document.</summary>
    public JsonObject Document { get; }

    /// <summary><c>name</c>: the head name inside the weight keys (null for static heads).</summary>
    public string? Name => Document["name"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary><c>model_class</c>.</summary>
    public string? ModelClass => Document["model_class"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>The head's own config dict.</summary>
    /// <exception cref="AdapterConfigException">The document has no config (a static head).</exception>
    public JsonObject Config => Document["config"] as JsonObject
        ?? throw new AdapterConfigException($"{FileName} has no \"config\" object (static heads are not supported).");

    /// <summary>The document Python's <c>build_full_config</c> produces for a head.</summary>
    public static HeadConfigFile Create(JsonObject config, string name, string modelType, int hiddenSize, string modelClass, string? modelName)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new HeadConfigFile(new JsonObject
        {
            ["model_type"] = modelType,
            ["hidden_size"] = hiddenSize,
            ["model_class"] = modelClass,
            ["model_name"] = modelName ?? string.Empty,
            ["name"] = name,
            ["config"] = config.DeepClone(),
            ["version"] = AdapterConfigFile.CurrentVersion,
        });
    }

    /// <summary>Parses the JSON text.</summary>
    public static HeadConfigFile Parse(string json, string sourceName = FileName) =>
        new(ConfigJson.Parse(json, sourceName) as JsonObject ?? throw new AdapterConfigException($"{sourceName} must hold a JSON object."));

    /// <summary>Reads and parses a file.</summary>
    public static HeadConfigFile Read(string path) => Parse(File.ReadAllText(path, Encoding.UTF8), path);

    /// <summary>The bytes Python's <c>json.dump(indent=2, sort_keys=True)</c> would write.</summary>
    public string ToJsonString() => PythonJson.Serialize(Document);
}
