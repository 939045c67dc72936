using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Adapters.Hub.Cards;
using Adapters.Hub.Legacy;
using Adapters.Hub.Yaml;
using Adapters.Testing;

namespace Adapters.Hub.Tests.Cards;

/// <summary>
/// Deeply nested and alias-bomb YAML in model cards, the validate-yaml body and registry cards: each ends in the
/// parser's typed error naming the file and the limit, within 5 s and 256 MB of allocation, and the process survives.
/// </summary>
public sealed class HostileYamlTests : IDisposable
{
    private const long MaxAllocated = 256L << 20;

    private readonly string _registry = Directory.CreateTempSubdirectory("hostile-registry-").FullName;

    public HostileYamlTests()
    {
        var schemas = Path.Combine(_registry, "scripts", "schemas");
        Directory.CreateDirectory(schemas);
        Directory.CreateDirectory(Path.Combine(_registry, "dist", "v2"));
        Directory.CreateDirectory(Path.Combine(_registry, "adapters", "hostile"));
        foreach (var schema in Directory.GetFiles(TestPaths.Fixture("legacy-hub", "scripts", "schemas")))
        {
            File.Copy(schema, Path.Combine(schemas, Path.GetFileName(schema)));
        }
    }

    public void Dispose() => Directory.Delete(_registry, recursive: true);

    /// <summary>Nine levels of ten aliases each: 10^9 nodes once expanded, from a few hundred bytes.</summary>
    private static string AliasBomb(string indent = "")
    {
        var sb = new StringBuilder();
        sb.Append(indent).Append("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 9; i++)
        {
            sb.Append(indent).Append($"l{i}: &l{i} [").Append(string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 10))).Append("]\n");
        }
        return sb.ToString();
    }

    [Fact]
    public void A_50000_deep_readme_is_a_typed_error_naming_the_file_and_the_depth_limit()
    {
        var path = TestPaths.Fixture("hostile", "README-deep.md");
        var error = Bounded(() => Assert.Throws<ModelCardException>(() => ModelCard.Load(path)));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains("YamlLimits.MaxDepth = 128", error.Message);
    }

    [Fact]
    public void The_validate_yaml_body_is_a_typed_error()
    {
        using var body = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("hostile", "validate-yaml-deep.json")));
        var content = body.RootElement.GetProperty("content").GetString()!;
        var error = Bounded(() => Assert.Throws<ModelCardException>(() => ModelCard.Parse(content)));
        Assert.StartsWith("README.md: ", error.Message);
        Assert.Contains("YamlLimits.MaxDepth", error.Message);
    }

    [Fact]
    public void An_alias_bomb_in_a_model_card_is_a_typed_error_naming_the_expansion_limit()
    {
        var text = "---\n" + AliasBomb() + "---\nbody\n";
        Assert.True(text.Length < 1000);
        var error = Bounded(() => Assert.Throws<ModelCardException>(() => ModelCard.Parse(text, "bomb/README.md")));
        Assert.StartsWith("bomb/README.md: ", error.Message);
        Assert.Contains("YamlLimits.MaxExpandedNodes = 200000", error.Message);
    }

    [Fact]
    public void Cards_with_modest_anchors_and_tighter_limits_behave_as_configured()
    {
        var card = ModelCard.Parse("---\nbase: &b [x, y]\ntags: *b\n---\n");
        Assert.Equal(["x", "y"], card.Metadata.Tags);
        var limits = new YamlLimits { MaxDepth = 2 };
        Assert.Throws<ModelCardException>(() => ModelCard.Parse("---\na: [[[1]]]\n---\n", "README.md", limits));
        Assert.Equal(["1"], ModelCard.Parse("---\ntags: [1]\n---\n", "README.md", limits).Metadata.Tags);
    }

    [Fact]
    public void An_alias_inside_its_own_anchor_is_a_typed_error()
    {
        var error = Assert.Throws<ModelCardException>(() => ModelCard.Parse("---\na: &a [1, *a]\n---\n"));
        Assert.Contains("*a", error.Message);
    }

    [Theory]
    [InlineData("deep-card.yaml")]
    [InlineData("yaml-bomb-card/bert-base-multilingual-uncased-hinglish-sentiment.yaml")]
    public async Task Hostile_registry_cards_are_typed_errors_naming_the_card(string fixture)
    {
        File.Copy(TestPaths.Fixture(["hostile", .. fixture.Split('/')]), Path.Combine(_registry, "adapters", "hostile", "card.yaml"));
        var error = await BoundedAsync(() => Assert.ThrowsAsync<LegacyRegistryException>(() => LegacyRegistry.OpenFolder(_registry).GetCardAsync("adapters/hostile/card.yaml")));
        Assert.StartsWith("adapters/hostile/card.yaml: ", error.Message);
        Assert.Contains("YamlLimits.MaxDepth", error.Message);
    }

    [Fact]
    public async Task An_alias_bomb_registry_card_is_a_typed_error()
    {
        var card = File.ReadAllText(TestPaths.Fixture("legacy-hub", "adapters", "nirantk", "bert-base-multilingual-uncased-hinglish-sentiment.yaml"));
        File.WriteAllText(Path.Combine(_registry, "adapters", "hostile", "bomb.yaml"), card + "\nextra:\n" + AliasBomb("  "));
        var error = await BoundedAsync(() => Assert.ThrowsAsync<LegacyRegistryException>(() => LegacyRegistry.OpenFolder(_registry).GetCardAsync("adapters/hostile/bomb.yaml")));
        Assert.Contains("YamlLimits.MaxExpandedNodes", error.Message);
    }

    private static T Bounded<T>(Func<T> action)
    {
        var stopwatch = Stopwatch.StartNew();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = action();
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < MaxAllocated);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
        return result;
    }

    private static async Task<T> BoundedAsync<T>(Func<Task<T>> action)
    {
        var stopwatch = Stopwatch.StartNew();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await action();
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < MaxAllocated);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
        return result;
    }
}
