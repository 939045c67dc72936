using System.Text.Json;
using System.Text.Json.Nodes;

namespace Adapters.Hub.Legacy;

/// <summary>A generated entry, <c>dist/v2/adapters/&lt;org&gt;/&lt;file&gt;.json</c>: what <c>find_in_index</c> points at.</summary>
public sealed class LegacyIndexEntry
{
    /// <summary>Path relative to <c>dist/v2</c>, e.g. <c>adapters/ukp/gpt2_sentiment_sst-2_houlsby.json</c>.</summary>
    public required string Path { get; init; }

    /// <summary>The org folder.</summary>
    public required string Org { get; init; }

    /// <summary>The file name up to its first dot (Python's <c>basename(path).split(".")[0]</c>).</summary>
    public required string Stem { get; init; }

    /// <summary>The 16-hex config id stored in the entry.</summary>
    public required string ConfigId { get; init; }

    /// <summary>The default version.</summary>
    public required string DefaultVersion { get; init; }

    /// <summary>The versions keyed by label.</summary>
    public required IReadOnlyDictionary<string, LegacyAdapterFile> Files { get; init; }

    /// <summary>The full adapter config from <c>info.adapter_config</c>.</summary>
    public required JsonObject AdapterConfig { get; init; }

    /// <summary>The base model id from <c>info.model_name</c>.</summary>
    public required string ModelName { get; init; }

    /// <summary>The task from <c>info.task</c>.</summary>
    public required string Task { get; init; }

    /// <summary>The subtask from <c>info.subtask</c>.</summary>
    public required string Subtask { get; init; }

    /// <summary>The Hugging Face repo the entry was migrated to, <c>AdapterHub/&lt;stem&gt;</c>.</summary>
    public string RepoId => "AdapterHub/" + Stem;

    internal static LegacyIndexEntry Parse(string json, string path)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new LegacyRegistryException(path, null, "expected a JSON object");
        }
        catch (JsonException ex)
        {
            throw new LegacyRegistryException(path, null, $"invalid JSON: {ex.Message}", ex);
        }
        string Text(JsonNode? node, string field) =>
            node is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>()
                : throw new LegacyRegistryException(path, field, "expected a string");
        var files = root["files"] as JsonObject ?? throw new LegacyRegistryException(path, "files", "expected an object keyed by version");
        var info = root["info"] as JsonObject ?? throw new LegacyRegistryException(path, "info", "expected an object");
        var segments = path.Split('/');
        var entry = new LegacyIndexEntry
        {
            Path = path,
            Org = segments.Length >= 2 ? segments[^2] : "",
            Stem = segments[^1].Split('.')[0],
            ConfigId = Text(root["config_id"], "config_id"),
            DefaultVersion = Text(root["default_version"], "default_version"),
            Files = files.ToDictionary(
                p => p.Key,
                p => new LegacyAdapterFile
                {
                    Version = p.Key,
                    Url = Text(p.Value?["url"], $"files.{p.Key}.url"),
                    Sha1 = p.Value?["sha1"] is { } sha1 ? Text(sha1, $"files.{p.Key}.sha1") : null,
                    Sha256 = p.Value?["sha256"] is { } sha256 ? Text(sha256, $"files.{p.Key}.sha256") : null,
                },
                StringComparer.Ordinal),
            AdapterConfig = info["adapter_config"] as JsonObject ?? throw new LegacyRegistryException(path, "info.adapter_config", "expected an object"),
            ModelName = Text(info["model_name"], "info.model_name"),
            Task = Text(info["task"], "info.task"),
            Subtask = Text(info["subtask"], "info.subtask"),
        };
        if (!entry.Files.ContainsKey(entry.DefaultVersion))
        {
            throw new LegacyRegistryException(path, "default_version", $"'{entry.DefaultVersion}' is not a key of files");
        }
        foreach (var file in entry.Files.Values)
        {
            if (file.Sha1 is null && file.Sha256 is null)
            {
                throw new LegacyRegistryException(path, $"files.{file.Version}", "expected sha1 or sha256");
            }
        }
        return entry;
    }
}
