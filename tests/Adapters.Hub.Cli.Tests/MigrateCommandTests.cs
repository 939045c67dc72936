using System.Text.Json;
using Adapters.Testing;

namespace Adapters.Hub.Cli.Tests;

public sealed class MigrateCommandTests
{
    private static readonly string s_registry = TestPaths.Fixture("legacy-hub");

    [Fact]
    public async Task Dry_run_json_prints_the_plan_for_every_entry()
    {
        var (exitCode, output, error) = await ResolveCommandTests.RunAsync("migrate", "--registry", s_registry, "--dry-run", "--json");

        Assert.True(exitCode == 0, error);
        using var document = JsonDocument.Parse(output);
        var root = document.RootElement;
        Assert.Equal(291, root.GetProperty("entries").GetInt32());
        Assert.Equal(501, root.GetProperty("versions").GetInt32());
        var sst2 = root.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("legacyId").GetString() == "@ukp/bert-base-uncased_sentiment_sst-2_pfeiffer");
        Assert.Equal("AdapterHub/bert-base-uncased_sentiment_sst-2_pfeiffer", sst2.GetProperty("targetRepo").GetString());
        Assert.Equal("bert-base-uncased", sst2.GetProperty("modelName").GetString());
        Assert.Equal("9076f36a74755ac4", sst2.GetProperty("configId").GetString());
        var version = Assert.Single(sst2.GetProperty("versions").EnumerateArray());
        Assert.Equal("1", version.GetProperty("version").GetString());
        Assert.Equal(["main", "1"], version.GetProperty("branches").EnumerateArray().Select(b => b.GetString()));
        Assert.StartsWith("fcf8d1a3", version.GetProperty("sha1").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dry_run_text_honours_org_and_only()
    {
        var (exitCode, output, error) = await ResolveCommandTests.RunAsync("migrate", "--registry", s_registry, "--dry-run", "--org", "MyOrg", "--only", "ukp/bert-base-multilingual-cased-en-wiki_pfeiffer");

        Assert.True(exitCode == 0, error);
        Assert.Equal(
            "@ukp/bert-base-multilingual-cased-en-wiki_pfeiffer (bert-base-multilingual-cased, en/wiki, d345095bcb01e325) -> MyOrg/bert-base-multilingual-cased-en-wiki_pfeiffer [nd -> main, nd; wd -> wd]\n1 entries, 2 versions.\n",
            output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task A_run_without_a_target_is_refused_before_any_download()
    {
        var (exitCode, output, error) = await ResolveCommandTests.RunAsync("migrate", "--registry", s_registry, "--only", "gpt2");

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        Assert.Contains("--output", error, StringComparison.Ordinal);
        Assert.Contains("--dry-run", error, StringComparison.Ordinal);
    }
}
