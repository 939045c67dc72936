using System.Text.Json;
using Adapters.Hub.Cli;
using Adapters.Testing;

namespace Adapters.Hub.Cli.Tests;

public sealed class ResolveCommandTests
{
    private static readonly string s_registry = TestPaths.Fixture("legacy-hub");

    internal static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Json_output_names_repo_revision_entry_config_id_and_checksums()
    {
        var (exitCode, output, error) = await RunAsync("resolve", "sentiment/sst-2@ukp", "--model", "bert-base-uncased", "--config", "pfeiffer", "--registry", s_registry, "--json");

        Assert.True(exitCode == 0, error);
        using var document = JsonDocument.Parse(output);
        var root = document.RootElement;
        Assert.Equal("AdapterHub/bert-base-uncased_sentiment_sst-2_pfeiffer", root.GetProperty("repoId").GetString());
        Assert.Equal("main", root.GetProperty("revision").GetString());
        Assert.Equal("dist/v2/adapters/ukp/bert-base-uncased_sentiment_sst-2_pfeiffer.json", root.GetProperty("entryPath").GetString());
        Assert.Equal("9076f36a74755ac4", root.GetProperty("configId").GetString());
        Assert.StartsWith("fcf8d1a3", root.GetProperty("sha1").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("7c100920", root.GetProperty("sha256").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_output_with_a_version_uses_it_as_the_revision()
    {
        var (exitCode, output, error) = await RunAsync("resolve", "en/wiki@ukp", "--model", "bert-base-multilingual-cased", "--version", "madx", "--registry", s_registry);

        Assert.True(exitCode == 0, error);
        Assert.Contains("repo_id:    AdapterHub/bert-base-multilingual-cased-en-wiki_pfeiffer_relu", output, StringComparison.Ordinal);
        Assert.Contains("revision:   madx", output, StringComparison.Ordinal);
        Assert.Contains("config_id:  ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_registry_can_come_from_the_environment_variable()
    {
        var previous = Environment.GetEnvironmentVariable("ADAPTERS_LEGACY_REGISTRY");
        Environment.SetEnvironmentVariable("ADAPTERS_LEGACY_REGISTRY", s_registry);
        try
        {
            var (exitCode, output, error) = await RunAsync("resolve", "@ukp/gpt2_sentiment_sst-2_houlsby");

            Assert.True(exitCode == 0, error);
            Assert.Contains("AdapterHub/gpt2_sentiment_sst-2_houlsby", output, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("ADAPTERS_LEGACY_REGISTRY", previous);
        }
    }

    [Fact]
    public async Task An_ambiguous_id_fails_with_one_line_listing_candidates()
    {
        var (exitCode, output, error) = await RunAsync("resolve", "conll2003", "--model", "bert-base-uncased", "--registry", s_registry);

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        Assert.StartsWith("error: Found multiple possible adapters matching 'conll2003'", error, StringComparison.Ordinal);
        Assert.Contains("ner/conll2003", error, StringComparison.Ordinal);
        Assert.Contains("chunk/conll2003", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task A_missing_registry_is_explained()
    {
        var previous = Environment.GetEnvironmentVariable("ADAPTERS_LEGACY_REGISTRY");
        Environment.SetEnvironmentVariable("ADAPTERS_LEGACY_REGISTRY", null);
        try
        {
            var (exitCode, _, error) = await RunAsync("resolve", "sst-2", "--model", "bert-base-uncased");

            Assert.Equal(1, exitCode);
            Assert.Contains("--registry", error, StringComparison.Ordinal);
            Assert.Contains("ADAPTERS_LEGACY_REGISTRY", error, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("ADAPTERS_LEGACY_REGISTRY", previous);
        }
    }

    [Fact]
    public async Task Help_documents_the_environment_variable()
    {
        var (_, output, _) = await RunAsync("resolve", "--help");

        Assert.Contains("ADAPTERS_LEGACY_REGISTRY", output, StringComparison.Ordinal);
    }
}
