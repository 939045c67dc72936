using Adapters.Hub.Cards;

namespace Adapters.Hub.Tests.Cards;

public sealed class ModelCardTests
{
    // The front matter of a real Hub adapter card (AdapterHub/roberta-base-pf-sick), plus keys an
    // owner might add that we do not model.
    private const string ExistingCard =
        "---\n" +
        "tags:\n- roberta\n- en\n- adapter-transformers\n" +
        "datasets:\n- sick\n" +
        "language:\n- en\n" +
        "model-index:\n  - name: sick\n    results:\n      - task: {type: text-classification}\n" +
        "widget:\n- text: \"A man is playing a guitar.\"\n" +
        "no: no\n" +
        "---\n\n# Adapter `AdapterHub/roberta-base-pf-sick` for roberta-base\n\nHand-written text.\n";

    [Fact]
    public void An_unchanged_card_round_trips_byte_for_byte()
    {
        var card = ModelCard.Parse(ExistingCard);

        Assert.Equal(ExistingCard, card.ToString());
        Assert.Equal(["roberta", "en", "adapter-transformers"], card.Metadata.Tags);
        Assert.Equal("no", card.Metadata.GetString("no"));
    }

    [Fact]
    public void Refreshing_keeps_unknown_keys_existing_tags_and_the_body()
    {
        var card = ModelCard.Parse(ExistingCard);

        AdapterCard.Refresh(card, new AdapterCardOptions { RepoId = "AdapterHub/roberta-base-pf-sick", ModelName = "roberta-base", ModelType = "roberta", License = "apache-2.0" });
        var reparsed = ModelCard.Parse(card.ToString());

        Assert.Equal(["roberta", "en", "adapter-transformers"], reparsed.Metadata.Tags);
        Assert.Equal(["sick"], reparsed.Metadata.GetList("datasets"));
        Assert.Equal("apache-2.0", reparsed.Metadata.GetString("license"));
        Assert.Equal("adapter-transformers", reparsed.Metadata.GetString("library_name"));
        Assert.Equal("roberta-base", reparsed.Metadata.GetString("base_model"));
        Assert.Contains("- text: \"A man is playing a guitar.\"", card.ToString(), StringComparison.Ordinal);
        Assert.Contains("model-index", reparsed.Metadata.Keys);
        Assert.Equal("no", reparsed.Metadata.GetString("no"));
        Assert.Contains("license: \"apache-2.0\"", card.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("Hand-written text.\n", card.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_card_without_front_matter_is_all_body()
    {
        var card = ModelCard.Parse("# Just a title\n");

        Assert.True(card.Metadata.IsEmpty);
        Assert.Equal("# Just a title\n", card.ToString());
    }

    [Theory]
    [InlineData("---\ntags: [a\n---\nbody", "invalid YAML front matter")]
    [InlineData("---\ntags:\n- a\nno closing fence\n", "never closed")]
    [InlineData("---\n- just\n- a list\n---\n", "must be a mapping")]
    public void Broken_front_matter_names_the_file_and_the_problem(string text, string problem)
    {
        var ex = Assert.Throws<ModelCardException>(() => ModelCard.Parse(text, "org/repo/README.md"));

        Assert.StartsWith("org/repo/README.md: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Save_writes_through_a_temporary_file_and_reloads()
    {
        var dir = Directory.CreateTempSubdirectory("adapters-card-");
        try
        {
            var path = Path.Combine(dir.FullName, "README.md");
            var card = AdapterCard.Create(new AdapterCardOptions { RepoId = "me/lora", ModelName = "bert-base-uncased" });

            card.Save(path);

            Assert.Equal(card.ToString(), File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(dir.FullName));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
