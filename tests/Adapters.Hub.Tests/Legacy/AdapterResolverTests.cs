using System.Text.Json.Nodes;
using Adapters.Hub.Legacy;

namespace Adapters.Hub.Tests.Legacy;

public sealed class AdapterResolverTests
{
    private static readonly AdapterResolver s_resolver = new(LegacyFixtures.Registry);

    [Theory]
    [InlineData("sentiment/sst-2@ukp", "bert-base-uncased", "pfeiffer", "adapters/ukp/bert-base-uncased_sentiment_sst-2_pfeiffer.json", "1")]
    [InlineData("sst-2", "bert-base-uncased", null, "adapters/ukp/bert-base-uncased_sentiment_sst-2_pfeiffer.json", "1")]
    [InlineData("sst-2", "bert-base-uncased", "houlsby", "adapters/ukp/bert-base-uncased_sentiment_sst-2_houlsby.json", "1")]
    [InlineData("en/wiki@ukp", "bert-base-multilingual-cased", null, "adapters/ukp/bert-base-multilingual-cased-en-wiki_pfeiffer_relu.json", "madx")]
    [InlineData("nli/multinli", "bert-base-multilingual-cased", null, "adapters/kabirahuja2431/bert-base-multilingual-cased_nli_MultiNLI_adapter_config.json", "2")]
    [InlineData("squad1", "roberta-base", "houlsby", "adapters/ukp/roberta-base_qa_squad1_houlsby.json", "1")]
    [InlineData("sentiment/sst-2@ukp", "roberta-base", null, "adapters/ukp/roberta-base-sst_pfeiffer.json", "AdapterFusion")]
    [InlineData("sentiment/sst-2@ukp", "roberta-base", "houlsby", "adapters/ukp/roberta-base-sst_houlsby.json", null)]
    [InlineData("ner/conll2003", "bert-base-uncased", null, "adapters/ukp/bert-base-uncased-ner-pfeiffer.json", "NER")]
    [InlineData("mlki/ep", "xlm-roberta-base", null, "adapters/mlki/xlm-roberta-base_mlki_ep_pfeiffer.json", null)]
    [InlineData("@ukp/gpt2_sentiment_sst-2_houlsby", null, null, "adapters/ukp/gpt2_sentiment_sst-2_houlsby.json", null)]
    [InlineData("  nli/multinli@ukp ", "bert-base-uncased", null, "adapters/ukp/bert-base-uncased_nli_multinli_pfeiffer.json", null)]
    public async Task Resolves_the_documented_examples(string id, string? model, string? config, string expectedEntry, string? expectedDefaultVersion)
    {
        var result = await s_resolver.ResolveAsync(id, model, config);

        Assert.Equal(expectedEntry, result.EntryPath);
        Assert.Equal("AdapterHub/" + Path.GetFileNameWithoutExtension(expectedEntry), result.RepoId);
        Assert.Equal("main", result.Revision);
        if (expectedDefaultVersion is not null) Assert.Equal(expectedDefaultVersion, result.DefaultVersion);
        Assert.Equal(result.DefaultVersion, result.Version);
        Assert.Matches("^[0-9a-f]{16}$", result.ConfigId);
    }

    [Fact]
    public async Task The_sst2_example_carries_its_checksums_and_legacy_zip_url()
    {
        var result = await s_resolver.ResolveAsync("sentiment/sst-2@ukp", "bert-base-uncased", "pfeiffer");

        Assert.Equal("9076f36a74755ac4", result.ConfigId);
        Assert.StartsWith("fcf8d1a3", result.File.Sha1, StringComparison.Ordinal);
        Assert.StartsWith("7c100920", result.File.Sha256, StringComparison.Ordinal);
        Assert.Equal("https://public.ukp.informatik.tu-darmstadt.de/AdapterHub/text_task/sst/bert-base-uncased/pfeiffer/bert-base-uncased_sentiment_sst-2_pfeiffer.zip", result.File.Url);
        var houlsby = await s_resolver.ResolveAsync("sst-2", "bert-base-uncased", "houlsby");
        Assert.StartsWith("be2b6919", houlsby.File.Sha1, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_version_becomes_the_revision_and_selects_its_file()
    {
        var result = await s_resolver.ResolveAsync("en/wiki@ukp", "bert-base-multilingual-cased", version: "madx");
        var mrpc = await s_resolver.ResolveAsync("sts/mrpc@ukp", "bert-base-uncased", "pfeiffer", "1");

        Assert.Equal("madx", result.Revision);
        Assert.Equal("madx", result.Version);
        Assert.Equal("AdapterHub/bert-base-uncased_sts_mrpc_pfeiffer", mrpc.RepoId);
        Assert.Equal("1", mrpc.Revision);
        var error = await Assert.ThrowsAsync<LegacyResolutionException>(() => s_resolver.ResolveAsync("en/wiki@ukp", "bert-base-multilingual-cased", version: "nope"));
        Assert.Contains("'nope'", error.Message, StringComparison.Ordinal);
        Assert.Contains("madx", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wiki", "bert-base-multilingual-cased", 47, "en/wiki")]
    [InlineData("conll2003", "bert-base-uncased", 2, "chunk/conll2003")]
    [InlineData("sentiment", "bert-base-uncased", 2, "sentiment/imdb")]
    public async Task Ambiguous_ids_list_every_candidate(string id, string model, int count, string oneCandidate)
    {
        var error = await Assert.ThrowsAsync<AmbiguousLegacyAdapterException>(() => s_resolver.ResolveAsync(id, model));

        Assert.Equal(id, error.Identifier);
        Assert.Equal(count, error.Candidates.Count);
        Assert.Contains(oneCandidate, error.Candidates);
        Assert.StartsWith($"Found multiple possible adapters matching '{id}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(oneCandidate, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_config_fallback_ignores_the_org_but_a_matching_config_honours_it()
    {
        // lohfink-rossi-leaveout is not in the sst-2 node, so Python falls back to the default and drops @nobody.
        var fallback = await s_resolver.ResolveAsync("sentiment/sst-2@nobody", "bert-base-uncased", "lohfink-rossi-leaveout");
        var noConfig = await s_resolver.ResolveAsync("sentiment/sst-2@nobody", "bert-base-uncased");

        Assert.Equal("adapters/ukp/bert-base-uncased_sentiment_sst-2_pfeiffer.json", fallback.EntryPath);
        Assert.Equal(fallback.EntryPath, noConfig.EntryPath);
        var error = await Assert.ThrowsAsync<LegacyAdapterNotFoundException>(() => s_resolver.ResolveAsync("sentiment/sst-2@nobody", "bert-base-uncased", "pfeiffer"));
        Assert.Equal("No adapter with name 'sentiment/sst-2@nobody' was found in the adapter index.", error.Message);
    }

    [Fact]
    public async Task Strict_mode_refuses_a_config_the_node_lacks()
    {
        var strict = new AdapterResolver(LegacyFixtures.Registry) { Strict = true };

        var error = await Assert.ThrowsAsync<LegacyAdapterNotFoundException>(() => strict.ResolveAsync("sst-2", "bert-base-uncased", "lohfink-rossi-leaveout"));

        Assert.Equal("No adapter 'sst-2' found for the current model or configuration.", error.Message);
    }

    [Fact]
    public async Task A_json_config_and_a_saved_adapter_config_hash_like_the_named_one()
    {
        var architectures = await LegacyFixtures.Registry.GetArchitecturesAsync();
        var houlsby = architectures.Find("houlsby")!;
        var wrapped = new JsonObject { ["config"] = houlsby.DeepClone(), ["name"] = "x" };

        var bare = await s_resolver.ResolveAsync("sst-2", "bert-base-uncased", houlsby.ToJsonString());
        var saved = await s_resolver.ResolveAsync("sst-2", "bert-base-uncased", wrapped.ToJsonString());
        var alias = await s_resolver.ResolveAsync("sst-2", "bert-base-uncased", "double_seq_bn");

        Assert.Equal("adapters/ukp/bert-base-uncased_sentiment_sst-2_houlsby.json", bare.EntryPath);
        Assert.Equal(bare.EntryPath, saved.EntryPath);
        Assert.Equal(bare.EntryPath, alias.EntryPath);
    }

    [Fact]
    public async Task Errors_name_the_id()
    {
        var unknown = await Assert.ThrowsAsync<LegacyAdapterNotFoundException>(() => s_resolver.ResolveAsync("nosuchtask", "bert-base-uncased"));
        var noModel = await Assert.ThrowsAsync<LegacyResolutionException>(() => s_resolver.ResolveAsync("sst-2"));
        var badConfig = await Assert.ThrowsAsync<LegacyResolutionException>(() => s_resolver.ResolveAsync("sst-2", "bert-base-uncased", "nonsense"));
        var missingEntry = await Assert.ThrowsAsync<LegacyAdapterNotFoundException>(() => s_resolver.ResolveAsync("@ukp/does-not-exist"));

        Assert.Equal("No adapter with name 'nosuchtask' was found in the adapter index.", unknown.Message);
        Assert.Equal("Unable to resolve adapter without the name of a model. Please specify model_name.", noModel.Message);
        Assert.Contains("'nonsense'", badConfig.Message, StringComparison.Ordinal);
        Assert.Contains("@ukp/does-not-exist", missingEntry.Message, StringComparison.Ordinal);
        Assert.Equal("sst-2", badConfig.Identifier);
    }

    [Fact]
    public void Identifiers_split_as_python_does()
    {
        Assert.Equal(("en", "wiki", "ukp"), AdapterResolver.SplitIdentifier("en/wiki@ukp"));
        Assert.Equal(("sst-2", null, null), AdapterResolver.SplitIdentifier("sst-2"));
        Assert.Equal(("sentiment", null, "ukp"), AdapterResolver.SplitIdentifier("sentiment@ukp"));
    }

    [Fact]
    public async Task Every_entry_resolves_by_its_direct_id_and_by_task_subtask_with_its_own_config()
    {
        var registry = LegacyFixtures.Registry;
        var architectures = await registry.GetArchitecturesAsync();
        foreach (var card in await registry.GetCardsAsync())
        {
            var direct = await s_resolver.ResolveAsync(card.LegacyId);
            Assert.Equal(card.EntryPath, direct.EntryPath);

            var viaIndex = await s_resolver.ResolveAsync($"{card.Task}/{card.Subtask}@{card.Org}", card.ModelName, architectures.Expand(card));
            Assert.Equal(card.EntryPath, viaIndex.EntryPath);
        }
    }
}
