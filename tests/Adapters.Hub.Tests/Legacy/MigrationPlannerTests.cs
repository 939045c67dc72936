using Adapters.Hub.Legacy.Migration;

namespace Adapters.Hub.Tests.Legacy;

public sealed class MigrationPlannerTests
{
    [Fact]
    public async Task Every_entry_is_planned_with_distinct_targets_and_version_branches()
    {
        var plan = await new MigrationPlanner(LegacyFixtures.Registry).PlanAsync();

        Assert.Equal(291, plan.Count);
        Assert.Equal(501, plan.Sum(p => p.Versions.Count));
        Assert.Equal(291, plan.Select(p => p.TargetRepo).Distinct(StringComparer.Ordinal).Count());
        Assert.All(plan, item =>
        {
            Assert.True(item.Versions[0].IsDefault);
            Assert.Equal(["main", item.Versions[0].Version], item.Versions[0].Branches);
            Assert.All(item.Versions.Skip(1), v => Assert.Equal([v.Version], v.Branches));
            Assert.Equal(item.Versions.Count, item.Versions.Select(v => v.Version).Distinct().Count());
        });
        var stackExchange = plan.Single(p => p.LegacyId == "@ukp/bert-base-uncased_sts_stackexchange_pfeiffer");
        Assert.Equal(141, stackExchange.Versions.Count);
    }

    [Fact]
    public async Task The_mbert_english_language_adapter_plan_matches_the_registry()
    {
        var plan = await new MigrationPlanner(LegacyFixtures.Registry).PlanAsync("MyOrg", new MigrationFilter { Only = "ukp/bert-base-multilingual-cased-en-wiki_pfeiffer" });

        var item = Assert.Single(plan);
        Assert.Equal("MyOrg/bert-base-multilingual-cased-en-wiki_pfeiffer", item.TargetRepo);
        Assert.Equal("d345095bcb01e325", item.ConfigId);
        Assert.Equal("en/wiki", item.TaskSubtask);
        Assert.Equal(["nd", "wd"], item.Versions.Select(v => v.Version));
        Assert.Equal(["main", "nd"], item.Versions[0].Branches);
        Assert.StartsWith("ddaac912", item.Versions[0].Sha1, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null, "sentiment/*", null)]
    [InlineData("mlki", null, null, null)]
    [InlineData(null, "facebook/*", null, null)]
    [InlineData(null, null, null, "gpt2")]
    public async Task Filters_select_by_org_model_task_and_only(string? org, string? model, string? task, string? only)
    {
        var filter = new MigrationFilter { Org = org, Model = model, Task = task, Only = only };
        var all = await LegacyFixtures.Registry.GetCardsAsync();

        var plan = await new MigrationPlanner(LegacyFixtures.Registry).PlanAsync(filter: filter);

        Assert.NotEmpty(plan);
        Assert.Equal(all.Count(filter.Matches), plan.Count);
        Assert.True(plan.Count < all.Count);
        if (org is not null) Assert.All(plan, p => Assert.StartsWith("@mlki/", p.LegacyId, StringComparison.Ordinal));
        if (model is not null) Assert.All(plan, p => Assert.StartsWith("facebook/", p.ModelName, StringComparison.Ordinal));
        if (task is not null) Assert.All(plan, p => Assert.StartsWith("sentiment/", p.TaskSubtask, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_model_card_carries_the_metadata_and_the_legacy_id()
    {
        var plan = await new MigrationPlanner(LegacyFixtures.Registry).PlanAsync(filter: new MigrationFilter { Only = "ukp/bert-base-uncased_sentiment_sst-2_pfeiffer" });
        var item = Assert.Single(plan);
        var subtask = await LegacyFixtures.Registry.FindSubtaskCardAsync(item.Card.Type, item.Card.Task, item.Card.Subtask);

        var readme = LegacyModelCard.Render(item, subtask);

        Assert.StartsWith("---\ntags:\n- \"adapter-transformers\"\n- \"adapterhub:sentiment/sst-2\"\n- \"bert\"\n", readme, StringComparison.Ordinal);
        Assert.Contains("license: \"apache-2.0\"\n---\n", readme, StringComparison.Ordinal);
        Assert.Contains("# Adapter `AdapterHub/bert-base-uncased_sentiment_sst-2_pfeiffer` for bert-base-uncased", readme, StringComparison.Ordinal);
        Assert.Contains("`@ukp/bert-base-uncased_sentiment_sst-2_pfeiffer`", readme, StringComparison.Ordinal);
        Assert.Contains("model.load_adapter(\"AdapterHub/bert-base-uncased_sentiment_sst-2_pfeiffer\", set_active=True)", readme, StringComparison.Ordinal);
        Assert.Contains(item.Card.Description!.Trim(), readme, StringComparison.Ordinal);
        Assert.Contains("Clifton Poth", readme, StringComparison.Ordinal);
        Assert.Contains("```bibtex\n", readme, StringComparison.Ordinal);
        Assert.Contains("and includes a prediction head", readme, StringComparison.Ordinal);
        if (subtask?.HfDatasetsId is { } dataset) Assert.Contains($"datasets:\n- \"{dataset}\"\n", readme, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Datasets_come_from_the_subtask_card()
    {
        var plan = await new MigrationPlanner(LegacyFixtures.Registry).PlanAsync(filter: new MigrationFilter { Only = "ukp/bert-base-uncased-ner-pfeiffer" });
        var item = Assert.Single(plan);
        var subtask = await LegacyFixtures.Registry.FindSubtaskCardAsync(item.Card.Type, item.Card.Task, item.Card.Subtask);

        var readme = LegacyModelCard.Render(item, subtask);

        Assert.Contains("datasets:\n- \"conll2003\"\n", readme, StringComparison.Ordinal);
        Assert.Contains("[conll2003](https://huggingface.co/datasets/conll2003/)", readme, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_norwegian_language_adapter_card_quotes_its_language_and_names_its_dataset()
    {
        var builder = new TestRegistryBuilder();
        builder.AddEntry("http://localhost", "test", "bert-base-uncased-no-cc100", "text_lang", "no", "cc100", "1", ("1", TestRegistryBuilder.LegacyZip("no"), false));
        var registry = Adapters.Hub.Legacy.LegacyRegistry.OpenFolder(builder.Root);
        var item = Assert.Single(await new MigrationPlanner(registry).PlanAsync());
        var subtask = await registry.FindSubtaskCardAsync("text_lang", "no", "cc100");

        var readme = LegacyModelCard.Render(item, subtask);

        Assert.Equal("no", item.Card.Task);
        Assert.Contains("language:\n- \"no\"\n", readme, StringComparison.Ordinal);
        Assert.Contains("- \"adapterhub:no/cc100\"\n", readme, StringComparison.Ordinal);
        Assert.NotNull(subtask);
        Assert.DoesNotContain("datasets:", readme, StringComparison.Ordinal);
    }
}
