using System.Text.Json;
using System.Text.Json.Nodes;

namespace Adapters.Hub.Legacy;

/// <summary>
/// A per-model index, <c>dist/v2/index/&lt;model&gt;.json</c>: task → subtask → (config id → org → entry path, plus a
/// subtask-level <c>default</c>). Nodes keep the raw JSON so that lookups count keys exactly as Python does.
/// </summary>
public sealed class LegacyModelIndex
{
    private LegacyModelIndex(string modelName, string path, IReadOnlyList<LegacyIndexNode> nodes)
    {
        ModelName = modelName;
        Path = path;
        Nodes = nodes;
    }

    /// <summary>The model the index is for.</summary>
    public string ModelName { get; }

    /// <summary>The registry path the index was read from.</summary>
    public string Path { get; }

    /// <summary>Every (task, subtask) node in file order.</summary>
    public IReadOnlyList<LegacyIndexNode> Nodes { get; }

    internal static LegacyModelIndex Parse(string json, string modelName, string path)
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
        var nodes = new List<LegacyIndexNode>();
        foreach (var (task, subtasks) in root)
        {
            if (subtasks is not JsonObject subtaskMap) throw new LegacyRegistryException(path, task, "expected an object of subtasks");
            foreach (var (subtask, node) in subtaskMap)
            {
                if (node is not JsonObject nodeObject) throw new LegacyRegistryException(path, $"{task}.{subtask}", "expected an object of config ids");
                nodes.Add(LegacyIndexNode.Parse(task, subtask, nodeObject, path));
            }
        }
        return new LegacyModelIndex(modelName, path, nodes);
    }
}
