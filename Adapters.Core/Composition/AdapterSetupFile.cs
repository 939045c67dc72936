using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Heads;

namespace Adapters.Core.Composition;

/// <summary>
/// The <c>adapter_setup.json</c> that Python's <c>save_adapter_setup</c> writes (adapters ≥ 1.1):
/// <c>{"adapter_setup": &lt;block&gt;, "head_setup": &lt;block | name | [names] | true | null&gt;, "version": "adapters.1.2.0"}</c>,
/// keys in that order, <c>json.dump(indent=2)</c> without sorting and without a trailing newline.
/// </summary>
public sealed class AdapterSetupFile
{
    /// <summary>The file name Python uses (<c>SETUP_CONFIG_NAME</c>).</summary>
    public const string FileName = "adapter_setup.json";

    /// <summary>Describes a setup, with the head setup in Python's JSON form (see <see cref="HeadSetupNode"/>).</summary>
    public AdapterSetupFile(AdapterCompositionBlock adapterSetup, JsonNode? headSetup = null, string version = AdapterConfigFile.CurrentVersion)
    {
        ArgumentNullException.ThrowIfNull(adapterSetup);
        AdapterSetup = adapterSetup;
        HeadSetupNode = headSetup?.DeepClone();
        Version = version;
    }

    /// <summary>The adapter setup.</summary>
    public AdapterCompositionBlock AdapterSetup { get; }

    /// <summary>
    /// The head setup as Python stores it: null (no heads), <c>true</c> (a static model's own head, saved in the setup
    /// folder itself), a head name, a list of names, or a block object (e.g. a BatchSplit of heads).
    /// </summary>
    public JsonNode? HeadSetupNode { get; }

    /// <summary><c>version</c>, e.g. <c>"adapters.1.2.0"</c>.</summary>
    public string Version { get; }

    /// <summary>Whether the head setup is <c>true</c>: the head lives in the setup folder itself.</summary>
    public bool HeadSetupIsOwnFolder => HeadSetupNode is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    /// <summary>The head names to load from <c>&lt;folder&gt;/&lt;head&gt;/</c>, as Python's <c>load_adapter_setup</c> lists them.</summary>
    public IReadOnlyList<string> HeadNames => HeadSetupNode switch
    {
        JsonValue v when v.TryGetValue<string>(out var name) => [name],
        JsonArray list => list.Select(n => ConfigValues.ReadString(n, "head_setup")).ToArray(),
        JsonObject block => AdapterCompositionBlock.FromJson(block, $"{FileName} head_setup").Flatten(),
        _ => [],
    };

    /// <summary>
    /// The head setup as routing for <see cref="FlexHeadModel"/>: a BatchSplit block gives each head its rows; a name,
    /// list or other block gives those heads (their last adapters for nested blocks); null when there are none.
    /// </summary>
    public HeadSetup? ToHeadSetup()
    {
        switch (HeadSetupNode)
        {
            case JsonObject node:
                var block = AdapterCompositionBlock.FromJson(node, $"{FileName} head_setup");
                var heads = block.Children.Select(c => c.Last()).ToArray();
                return new HeadSetup(heads, block is BatchSplit split ? split.BatchSizes : null);
            case JsonArray or JsonValue when HeadNames is { Count: > 0 } names:
                return new HeadSetup(names);
            default:
                return null;
        }
    }

    /// <summary>The JSON form of <paramref name="heads"/>: a BatchSplit block when it splits rows, a name for one head, else a list.</summary>
    public static JsonNode? HeadSetupToJson(HeadSetup? heads)
    {
        if (heads is null || heads.Heads.Count == 0) return null;
        if (heads.BatchSizes is { } sizes)
            return new BatchSplit(sizes, heads.Heads.Select(h => (CompositionChild)h).ToArray()).ToJson();
        return heads.Heads.Count == 1 ? JsonValue.Create(heads.Heads[0]) : new JsonArray(heads.Heads.Select(h => (JsonNode?)JsonValue.Create(h)).ToArray());
    }

    /// <summary>The file text, byte for byte as Python writes it.</summary>
    public string ToJsonString() => PythonJson.Serialize(new JsonObject
    {
        ["adapter_setup"] = AdapterSetup.ToJson(),
        ["head_setup"] = HeadSetupNode?.DeepClone(),
        ["version"] = Version,
    }, sortKeys: false);

    /// <summary>Writes the file atomically (temporary file, then rename).</summary>
    public void Write(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = new UTF8Encoding(false).GetBytes(ToJsonString());
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Reads an <c>adapter_setup.json</c>.</summary>
    /// <exception cref="AdapterConfigException">The file is not valid JSON or not an object.</exception>
    /// <exception cref="AdapterCompositionException">The adapter or head setup is not a valid block.</exception>
    public static AdapterSetupFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllText(path, Encoding.UTF8), path);
    }

    /// <summary>Parses the text of an <c>adapter_setup.json</c>; <paramref name="source"/> names it in errors.</summary>
    public static AdapterSetupFile Parse(string json, string source = FileName)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (ConfigJson.Parse(json, source) is not JsonObject document)
            throw new AdapterConfigException($"{source} must hold a JSON object with \"adapter_setup\", \"head_setup\" and \"version\".");
        if (!document.ContainsKey("adapter_setup"))
            throw new AdapterConfigException($"{source} has no \"adapter_setup\" entry.");
        var setup = AdapterCompositionBlock.FromJson(document["adapter_setup"], $"{source} adapter_setup");
        var head = document["head_setup"];
        if (head is JsonObject block) AdapterCompositionBlock.FromJson(block, $"{source} head_setup");
        else if (head is JsonValue value && value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.String))
            throw new AdapterConfigException($"{source}: \"head_setup\" must be null, true, a head name, a list of names or a block, got {value.ToJsonString()}.");
        var version = document["version"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : AdapterConfigFile.CurrentVersion;
        return new AdapterSetupFile(setup, head, version);
    }
}
