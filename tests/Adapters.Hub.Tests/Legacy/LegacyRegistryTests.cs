using Adapters.Hub.Json;
using System.Text.Json.Nodes;
using Adapters.Hub.Legacy;

namespace Adapters.Hub.Tests.Legacy;

public sealed class LegacyRegistryTests
{
    [Fact]
    public async Task All_291_cards_parse_validate_and_map_to_distinct_repos()
    {
        var cards = await LegacyFixtures.Registry.GetCardsAsync();

        Assert.Equal(291, cards.Count);
        Assert.Equal(291, cards.Select(c => "AdapterHub/" + c.Stem).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(501, cards.Sum(c => c.Files.Count));
        Assert.Equal(272, cards.Count(c => c.Org == "ukp"));
        Assert.Equal(134, cards.Count(c => c.Type == "text_lang"));
        Assert.Contains(cards, c => c.Path == "adapters/ukp/bert-base-uncased-ner-pfeiffer.yml");
        Assert.All(cards, c => Assert.Contains(c.Files, f => f.Version == c.DefaultVersion));
    }

    [Fact]
    public async Task Every_card_of_every_kind_validates_against_its_schema()
    {
        var checkedFiles = await LegacyFixtures.Registry.ValidateAllAsync();

        Assert.Equal(291 + 5 + 123 + 188, checkedFiles);
    }

    [Fact]
    public async Task Architecture_cards_with_flow_mappings_and_trailing_commas_match_the_generated_architectures()
    {
        var fromCards = await LegacyFixtures.Registry.GetArchitectureCardsAsync();
        var generated = await LegacyFixtures.Registry.GetArchitecturesAsync();

        Assert.Equal(generated.Names.Order(), fromCards.Names.Order());
        foreach (var name in generated.Names)
        {
            Assert.Equal(PythonJson.Dumps(generated.Find(name)), PythonJson.Dumps(fromCards.Find(name)));
        }
    }

    [Fact]
    public async Task Float_override_stays_a_float_and_quoted_versions_stay_strings()
    {
        var card = await LegacyFixtures.Registry.GetCardAsync("adapters/kabirahuja2431/bert-base-multilingual-cased_nli_MultiNLI_adapter_config.yaml");

        Assert.Equal("""{"non_linearity": "relu", "reduction_factor": 2.0, "using": "pfeiffer"}""", PythonJson.Dumps(card.Config));
        Assert.Equal("2", card.DefaultVersion);
        Assert.Equal(["2", "1"], card.Files.Select(f => f.Version));
        Assert.Equal(["en/wiki@ukp"], card.Dependencies);
        Assert.Equal("AdapterHub/bert-base-multilingual-cased_nli_MultiNLI_adapter_config", "AdapterHub/" + card.Stem);
    }

    [Fact]
    public async Task Unquoted_yaml_1_1_words_and_numbers_stay_strings_where_the_schema_wants_strings()
    {
        var root = LegacyFixtures.CopyRegistrySubset();
        var card = """
            type: text_lang
            task: no
            subtask: wiki
            model_type: bert
            model_name: bert-base-multilingual-cased
            author: Someone
            config:
              using: pfeiffer
              reduction_factor: 2
            default_version: 1
            files:
            - version: 1
              url: https://example.org/no.zip
              sha1: abc
              score: 1.5
            prediction_head: no
            """;
        WriteFile(root, "adapters/test/no-card.yaml", card);

        var parsed = await LegacyRegistry.OpenFolder(root).GetCardAsync("adapters/test/no-card.yaml");

        Assert.Equal("no", parsed.Task);
        Assert.Equal("1", parsed.DefaultVersion);
        Assert.Equal("1", parsed.Files[0].Version);
        Assert.False(parsed.PredictionHead);
        Assert.Equal("""{"reduction_factor": 2, "using": "pfeiffer"}""", PythonJson.Dumps(parsed.Config));
    }

    [Theory]
    [InlineData("author: Someone\n", "", "author", "required field is missing")]
    [InlineData("prediction_head: true\n", "prediction_head: maybe\n", "prediction_head", "expected boolean")]
    [InlineData("  using: pfeiffer\n", "  using: pfeiffer\n  reduction_factor: 2.5\n", "config.reduction_factor", "expected integer")]
    [InlineData("  sha1: abc\n", "  sha1: abc\n  checksum: abc\n", "files[0].checksum", "unknown field")]
    [InlineData("  sha1: abc\n", "", "files[0].sha1", "no alternative of anyOf matches")]
    [InlineData("default_version: '1'\n", "default_version: '9'\n", "default_version", "not one of the file versions")]
    public async Task Schema_errors_name_the_file_and_the_field(string find, string replace, string field, string message)
    {
        var root = LegacyFixtures.CopyRegistrySubset();
        var good = """
            type: text_task
            task: sentiment
            subtask: sst-2
            model_type: bert
            model_name: bert-base-uncased
            author: Someone
            config:
              using: pfeiffer
            default_version: '1'
            files:
            - version: '1'
              url: https://example.org/a.zip
              sha1: abc
            prediction_head: true

            """;
        Assert.Contains(find, good, StringComparison.Ordinal);
        WriteFile(root, "adapters/test/bad.yaml", good.Replace(find, replace, StringComparison.Ordinal));

        var error = await Assert.ThrowsAsync<LegacyRegistryException>(() => LegacyRegistry.OpenFolder(root).GetCardAsync("adapters/test/bad.yaml"));

        Assert.Equal("adapters/test/bad.yaml", error.File);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains("adapters/test/bad.yaml", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_yaml_reports_the_file_and_line()
    {
        var root = LegacyFixtures.CopyRegistrySubset();
        WriteFile(root, "adapters/test/broken.yaml", "type: text_task\ntask: [unclosed\n");

        var error = await Assert.ThrowsAsync<LegacyRegistryException>(() => LegacyRegistry.OpenFolder(root).GetCardAsync("adapters/test/broken.yaml"));

        Assert.Contains("adapters/test/broken.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains("line", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subtask_cards_supply_the_datasets_id_and_the_norwegian_task_is_a_string()
    {
        var registry = LegacyFixtures.Registry;

        var norwegian = await registry.FindSubtaskCardAsync("text_lang", "no", "cc100");
        var missing = await registry.FindSubtaskCardAsync("text_task", "sentiment", "nope");

        var conll = await registry.FindSubtaskCardAsync("text_task", "ner", "conll2003");
        var cola = await registry.FindSubtaskCardAsync("text_task", "lingaccept", "cola");

        Assert.NotNull(norwegian);
        Assert.Equal("no", norwegian.Task);
        Assert.Null(missing);
        Assert.Equal("conll2003", conll?.HfDatasetsId);
        Assert.Equal("subtasks/text_task/linguistic_acceptability_cola.yaml", cola?.Path);
    }

    [Fact]
    public async Task Paths_outside_the_registry_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => LegacyFixtures.Registry.FindEntryAsync("../../etc/passwd"));
    }

    [Fact]
    public async Task Model_index_nodes_carry_defaults_and_config_ids()
    {
        var index = await LegacyFixtures.Registry.GetModelIndexAsync("bert-base-uncased");
        var sst2 = index.Nodes.Single(n => n.Task == "sentiment" && n.Subtask == "sst-2");

        Assert.Equal("adapters/ukp/bert-base-uncased_sentiment_sst-2_pfeiffer.json", sst2.Default);
        Assert.Equal(["9076f36a74755ac4", "b1017368d7a97b11"], sst2.Configs.Select(c => c.ConfigId));
        var facebook = await LegacyFixtures.Registry.GetModelIndexAsync("facebook/bart-base");
        Assert.NotEmpty(facebook.Nodes);
        await Assert.ThrowsAsync<LegacyRegistryException>(() => LegacyFixtures.Registry.GetModelIndexAsync("no-such-model"));
    }

    private static void WriteFile(string root, string relative, string text)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

}
