using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Goldens;

/// <summary>
/// A case's <c>golden.json</c>: the inputs Python fed (<c>input_ids</c>, <c>attention_mask</c>) and what it computed,
/// as float32 tensors written <c>{"shape": [...], "dtype": "float32", "data": nested lists}</c>.
/// </summary>
internal sealed class GoldenFile
{
    private GoldenFile(JsonObject json, string path)
    {
        Json = json;
        Path = path;
    }

    public JsonObject Json { get; }

    public string Path { get; }

    public JsonNode? this[string key] => Json[key];

    public static GoldenFile Read(string path) =>
        new(GoldenCase.ParsePythonJson(path).AsObject(), path);

    /// <summary>The (batch, sequence) token ids Python used.</summary>
    public Tensor InputIds() => IntMatrix("input_ids");

    /// <summary>The (batch, sequence) attention mask Python used.</summary>
    public Tensor AttentionMask() => IntMatrix("attention_mask");

    /// <summary>The named outputs of <paramref name="key"/> (<c>outputs</c>, <c>merged_outputs</c>, <c>reload_outputs</c>), or null when absent.</summary>
    public IReadOnlyDictionary<string, Tensor>? Outputs(string key)
    {
        if (Json[key] is not JsonObject outputs) return null;
        return outputs.ToDictionary(kv => kv.Key, kv => ReadTensor(kv.Value!.AsObject(), $"{Path}: {key}.{kv.Key}"), StringComparer.Ordinal);
    }

    private Tensor IntMatrix(string key)
    {
        var rows = Json[key]!.AsArray();
        var values = rows.SelectMany(r => r!.AsArray().Select(v => (long)v!)).ToArray();
        return tensor(values, [rows.Count, values.Length / rows.Count]);
    }

    private static Tensor ReadTensor(JsonObject node, string source)
    {
        if ((string?)node["dtype"] != "float32") throw new InvalidDataException($"{source}: expected float32 data.");
        var shape = node["shape"]!.AsArray().Select(v => (long)v!).ToArray();
        var values = new List<float>();
        Flatten(node["data"], values);
        if (values.Count != shape.Aggregate(1L, (a, b) => a * b)) throw new InvalidDataException($"{source}: {values.Count} values for shape [{string.Join(", ", shape)}].");
        return tensor(values.ToArray(), shape);
    }

    private static void Flatten(JsonNode? node, List<float> into)
    {
        if (node is JsonArray array)
        {
            foreach (var item in array) Flatten(item, into);
        }
        else
        {
            into.Add((float)node!);
        }
    }
}
