using System.Text.Json;
using System.Text.Json.Nodes;

namespace Adapters.Hub.Legacy;

/// <summary>One (task, subtask) node of a <see cref="LegacyModelIndex"/>.</summary>
public sealed class LegacyIndexNode
{
    /// <summary>The task key.</summary>
    public required string Task { get; init; }

    /// <summary>The subtask key.</summary>
    public required string Subtask { get; init; }

    /// <summary>The subtask-level <c>default</c> entry path, or null.</summary>
    public string? Default { get; init; }

    /// <summary>The config ids in file order, each with its org → entry path map and optional config-level default.</summary>
    public required IReadOnlyList<LegacyIndexConfig> Configs { get; init; }

    /// <summary>How many keys the node's JSON object has (config ids plus <c>default</c>), as Python's <c>len(node)</c>.</summary>
    public required int KeyCount { get; init; }

    /// <summary><c>task/subtask</c>.</summary>
    public override string ToString() => $"{Task}/{Subtask}";

    internal static LegacyIndexNode Parse(string task, string subtask, JsonObject node, string path)
    {
        string? defaultPath = null;
        var configs = new List<LegacyIndexConfig>();
        foreach (var (key, value) in node)
        {
            if (key == "default")
            {
                defaultPath = value is JsonValue v && v.GetValueKind() == JsonValueKind.String
                    ? v.GetValue<string>()
                    : throw new LegacyRegistryException(path, $"{task}.{subtask}.default", "expected a string path");
                continue;
            }
            if (value is not JsonObject config || config["versions"] is not JsonObject versions)
            {
                throw new LegacyRegistryException(path, $"{task}.{subtask}.{key}", "expected an object with a 'versions' map");
            }
            configs.Add(new LegacyIndexConfig
            {
                ConfigId = key,
                Versions = versions.Select(p => new KeyValuePair<string, string>(p.Key, p.Value?.GetValue<string>()
                    ?? throw new LegacyRegistryException(path, $"{task}.{subtask}.{key}.versions.{p.Key}", "expected a string path"))).ToList(),
                Default = config["default"]?.GetValue<string>(),
            });
        }
        return new LegacyIndexNode { Task = task, Subtask = subtask, Default = defaultPath, Configs = configs, KeyCount = node.Count };
    }
}
