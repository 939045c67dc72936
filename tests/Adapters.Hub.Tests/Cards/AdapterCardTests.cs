using Adapters.Hub.Cards;

namespace Adapters.Hub.Tests.Cards;

public sealed class AdapterCardTests
{
    private static readonly AdapterCardOptions Sst2 = new()
    {
        RepoId = "me/roberta-base-sst2-lora",
        ModelName = "roberta-base",
        ModelType = "roberta",
        AdapterName = "sst2",
        DatasetTag = "glue",
        Language = ["en"],
        License = "apache-2.0",
        Metrics = ["accuracy"],
        HeadType = "multilabel_classification",
        Method = "lora",
        ParameterCount = 294_912,
        ModelParameterCount = 124_645_632,
    };

    [Fact]
    public void Front_matter_has_pythons_keys_in_pythons_order_then_ours()
    {
        var card = AdapterCard.Create(Sst2);

        var expected =
            "---\n" +
            "tags:\n- adapter-transformers\n- roberta\n" +
            "datasets:\n- glue\n" +
            "language:\n- en\n" +
            "license: \"apache-2.0\"\n" +
            "metrics:\n- accuracy\n" +
            "library_name: adapter-transformers\n" +
            "base_model: roberta-base\n" +
            "---\n\n# Adapter `me/roberta-base-sst2-lora` for roberta-base\n\n";
        Assert.StartsWith(expected, card.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Body_carries_pythons_intro_usage_and_sections()
    {
        var text = AdapterCard.Create(Sst2).ToString();

        Assert.Contains("An [adapter](https://adapterhub.ml) for the `roberta-base` model that was trained on the [glue](https://huggingface.co/datasets/glue/) dataset and includes a prediction head for multilabel classification.", text, StringComparison.Ordinal);
        Assert.Contains("model = AutoAdapterModel.from_pretrained(\"roberta-base\")\nadapter_name = model.load_adapter(\"me/roberta-base-sst2-lora\", set_active=True)", text, StringComparison.Ordinal);
        Assert.Contains("```\npip install -U adapters\n```", text, StringComparison.Ordinal);
        Assert.Contains("- Parameters: 294,912 (0.237% of the base model's 124,645,632)", text, StringComparison.Ordinal);
        Assert.Contains("## Architecture & Training\n\n<!-- Add some description here -->", text, StringComparison.Ordinal);
        Assert.EndsWith("## Citation\n\n<!-- Add some description here -->\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_dataset_python_writes_None()
    {
        var text = AdapterCard.Create(new AdapterCardOptions { RepoId = "me/x", ModelName = "bert-base-uncased" }).ToString();

        Assert.Contains("that was trained on the None dataset.", text, StringComparison.Ordinal);
        Assert.StartsWith("---\ntags:\n- adapter-transformers\nlibrary_name: adapter-transformers\nbase_model: bert-base-uncased\n---\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_generated_card_parses_back_with_its_tags()
    {
        var reparsed = ModelCard.Parse(AdapterCard.Create(Sst2).ToString());

        Assert.Equal(["adapter-transformers", "roberta"], reparsed.Metadata.Tags);
        Assert.Equal("apache-2.0", reparsed.Metadata.GetString("license"));
        Assert.Equal(["glue"], reparsed.Metadata.GetList("datasets"));
    }
}
