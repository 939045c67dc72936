using System.Text.Json.Nodes;

namespace Adapters.Core.Configuration;

/// <summary>
/// The configuration of one adapter method, mirroring the Python dataclasses in
/// <c>adapters.configuration.adapter_config</c>: the same field names, defaults and JSON form.
/// Configs are immutable; <see cref="Replace"/> returns a changed copy.
/// </summary>
public abstract record AdapterConfig
{
    /// <summary>The <c>"architecture"</c> key written to JSON; null for bottleneck adapters, which have none.</summary>
    public abstract string? Architecture { get; }

    /// <summary>The architecture name shown by <c>adapter_summary()</c>: <see cref="Architecture"/> or <c>"bottleneck"</c>.</summary>
    public string DisplayArchitecture => Architecture ?? "bottleneck";

    /// <summary>Keys read from JSON that are not fields of this config; they are written back unchanged.</summary>
    public IReadOnlyDictionary<string, JsonNode?> ExtraFields { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>The config as Python's <c>to_dict()</c> returns it.</summary>
    public abstract JsonObject ToJson();

    /// <summary>The config as Python's <c>json.dump(indent=2, sort_keys=True)</c> writes it.</summary>
    public string ToJsonString() => PythonJson.Serialize(ToJson());

    /// <summary>A copy with the given fields changed, like Python's <c>config.replace(**changes)</c>.</summary>
    /// <exception cref="AdapterConfigException">A key is not a field of this config or has the wrong type.</exception>
    public abstract AdapterConfig Replace(JsonObject changes);

    /// <summary>
    /// Builds a config from its JSON dict, picking the class from <c>"architecture"</c> as Python's
    /// <c>AdapterConfig.load</c> does: none → <see cref="BnConfig"/>, <c>"lora"</c> → <see cref="LoRAConfig"/>,
    /// <c>"union"</c> → <see cref="ConfigUnion"/>,
    /// <c>"prefix_tuning"</c>, <c>"prompt_tuning"</c> and <c>"reft"</c> to their configs. Like Python, a dict always yields the base class of its family.
    /// </summary>
    public static AdapterConfig FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var architecture = json.TryGetPropertyValue("architecture", out var node) && node is not null
            ? ConfigValues.ReadString(node, "architecture")
            : null;
        return architecture switch
        {
            null => BnConfig.FromDictionary(json),
            "lora" => LoRAConfig.FromDictionary(json),
            "union" => ConfigUnion.FromDictionary(json),
            "prefix_tuning" => PrefixTuningConfig.FromDictionary(json),
            "prompt_tuning" => PromptTuningConfig.FromDictionary(json),
            "reft" => ReftConfig.FromDictionary(json),
            "mtl_lora" => MTLLoRAConfig.FromDictionary(json),
            _ => throw new AdapterConfigException(
                $"Unknown adapter architecture \"{architecture}\"; expected none (bottleneck), \"lora\", \"mtl_lora\", \"prefix_tuning\", \"prompt_tuning\", \"reft\" or \"union\"."),
        };
    }

    /// <summary>
    /// Resolves a config string as Python's <c>resolve_adapter_config</c> does: an alias such as <c>"seq_bn"</c>, or
    /// the syntax <c>lora[r=16, alpha=32, attn_matrices=['q','k','v']]|par_bn</c>, or the path of a JSON file.
    /// </summary>
    public static AdapterConfig Parse(string configString) => AdapterConfigResolver.Resolve(configString);
}
