using System.Text.Json.Nodes;
using Adapters.Testing;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

/// <summary>A <c>golden.json</c> under fixtures/python-goldens: the inputs Python ran and the tensors it computed.</summary>
internal sealed class GoldenFile
{
    private readonly JsonNode _root;

    private GoldenFile(JsonNode root) => _root = root;

    /// <summary>Reads fixtures/python-goldens/<paramref name="parts"/>/golden.json.</summary>
    public static GoldenFile Read(params string[] parts) =>
        new(JsonNode.Parse(File.ReadAllText(TestPaths.Fixture(["python-goldens", .. parts, "golden.json"])))!);

    /// <summary>The input ids (B, S).</summary>
    public Tensor InputIds => Ints(_root["input_ids"]!);

    /// <summary>The attention mask (B, S).</summary>
    public Tensor AttentionMask => Ints(_root["attention_mask"]!);

    /// <summary>A tensor of a golden output group (<c>outputs</c>, <c>reload_outputs</c>) by name.</summary>
    public Tensor Output(string group, string name)
    {
        var output = _root[group]![name]!;
        var shape = output["shape"]!.AsArray().Select(v => (long)v!).ToArray();
        var values = new List<float>();
        void Flatten(JsonNode node)
        {
            if (node is JsonArray array) foreach (var item in array) Flatten(item!);
            else values.Add((float)node);
        }
        Flatten(output["data"]!);
        return tensor(values.ToArray(), shape);
    }

    /// <summary>The largest absolute difference of <paramref name="actual"/> to the golden tensor, after checking shapes.</summary>
    public float MaxAbsDiff(Tensor actual, string group, string name)
    {
        var expected = Output(group, name);
        Xunit.Assert.Equal(expected.shape, actual.shape);
        return (actual.detach().to(ScalarType.Float32) - expected).abs().max().item<float>();
    }

    private static Tensor Ints(JsonNode rows)
    {
        var array = rows.AsArray();
        return tensor(array.SelectMany(r => r!.AsArray().Select(v => (long)v!)).ToArray(), [array.Count, array[0]!.AsArray().Count]);
    }
}
