using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using Adapters.Core.Tests.Models;
using Adapters.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Heads;

public sealed class FlexHeadModelTests
{
    private static FlexHeadModel Wide(string prefix = "bert")
    {
        TorchRuntime.Initialize();
        var config = new EncoderConfig { VocabSize = 16, MaxPositionEmbeddings = 16, NumHiddenLayers = 1 };
        return new FlexHeadModel(new BertModel(config, basePrefix: prefix));
    }

    [Theory]
    [InlineData("md_crosslingual", "md")]
    [InlineData("bigbird_rotten_tomatoes", "rotten_tomatoes1")]
    public void Python_written_head_configs_build_heads_with_the_manifest_keys_and_load_cleanly(string folder, string name)
    {
        using var scope = NewDisposeScope();
        var file = HeadConfigFile.Read(TestPaths.Fixture("models", "python-written", folder, "head_config.json"));
        using var model = Wide();
        // MANIFEST.md A2/A3: heads.NAME.1.weight [768,768], .1.bias [768], .4.weight [2,768], .4.bias [2].
        var expected = new Dictionary<string, long[]>
        {
            [$"heads.{name}.1.weight"] = [768, 768],
            [$"heads.{name}.1.bias"] = [768],
            [$"heads.{name}.4.weight"] = [2, 768],
            [$"heads.{name}.4.bias"] = [2],
        };
        var weights = expected.ToDictionary(p => p.Key, p => randn(p.Value));

        var result = model.LoadHeadStateDict(file, weights);

        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        var ours = model.GetHeadStateDict(name);
        Assert.Equal(expected.Keys.Order(), ours.Keys.Order());
        Assert.True(TinyModels.Same(weights[$"heads.{name}.4.weight"], ours[$"heads.{name}.4.weight"]));
    }

    [Fact]
    public void Emoji_labels_written_as_surrogate_escapes_are_read_back()
    {
        var file = HeadConfigFile.Read(TestPaths.Fixture("models", "python-written", "bigbird_rotten_tomatoes", "head_config.json"));
        using var model = Wide();

        var head = model.AddHead("rt", file.Config);

        Assert.Equal("👎", head.Id2Label![0]);
        Assert.Equal("👍", head.Id2Label[1]);
        Assert.Equal("BigBirdModelWithHeads", file.ModelClass);
    }

    [Fact]
    public void New_classification_head_config_matches_python()
    {
        using var model = Wide();
        model.AddClassificationHead("sst2");

        var json = model.CreateHeadConfigFile("sst2").ToJsonString();

        var expected = PythonJson.Serialize(JsonNode.Parse("""{"config": {"activation_function": "tanh", "bias": true, "dropout_prob": null, "head_type": "classification", "label2id": {"LABEL_0": 0, "LABEL_1": 1}, "layers": 2, "num_labels": 2, "use_pooler": false}, "hidden_size": 768, "model_class": "BertAdapterModel", "model_name": "", "model_type": "bert", "name": "sst2", "version": "adapters.1.2.0"}"""));
        Assert.Equal(expected, json);
    }

    [Fact]
    public void Head_types_have_pythons_layout_and_output_shapes()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var model = new FlexHeadModel(new BertModel(TinyModels.TinyBert()));
        model.eval();
        model.AddClassificationHead("cls", numLabels: 3);
        model.AddClassificationHead("multi", numLabels: 4, multilabel: true, usePooler: true);
        model.AddTaggingHead("tag", numLabels: 5);
        model.AddQaHead("qa");
        model.AddMaskedLmHead("mlm");
        var ids = TinyModels.InputIds();

        using var _ = no_grad();
        Assert.Equal([2L, 3L], model.Forward(ids, head: "cls").shape);
        Assert.Equal([2L, 4L], model.Forward(ids, head: "multi").shape);
        Assert.Equal([2L, 6L, 5L], model.Forward(ids, head: "tag").shape);
        Assert.Equal([2L, 6L, 2L], model.Forward(ids, head: "qa").shape);
        Assert.Equal([2L, 6L, 50L], model.Forward(ids, head: "mlm").shape);
        Assert.Equal(["heads.tag.1.bias", "heads.tag.1.weight"], model.GetHeadStateDict("tag").Keys.Order());
        var mlm = model.GetHeadStateDict("mlm");
        Assert.Equal(["heads.mlm.0.bias", "heads.mlm.0.weight", "heads.mlm.2.bias", "heads.mlm.2.weight", "heads.mlm.3.bias", "heads.mlm.3.weight"], mlm.Keys.Order());
        Assert.True(TinyModels.Same(mlm["heads.mlm.3.weight"], model.state_dict()["bert.embeddings.word_embeddings.weight"]));
        Assert.Contains("bert.encoder.layer.0.output.dense.weight", model.state_dict().Keys);
    }

    [Fact]
    public void Adapter_and_head_train_together_and_the_head_follows_the_active_adapter()
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        using var model = new FlexHeadModel(new BertModel(TinyModels.TinyBert()));
        model.BaseModel.AddAdapter("task", "seq_bn");
        model.AddClassificationHead("task", numLabels: 2);
        model.BaseModel.TrainAdapter("task");
        var ids = TinyModels.InputIds(batch: 4);
        var labels = tensor(new long[] { 0, 1, 1, 0 });
        var head = model.GetHead("task");
        using var optimizer = optim.Adam(model.parameters().Where(p => p.requires_grad), lr: 1e-2);
        var losses = new List<float>();
        for (var step = 0; step < 6; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = head.Loss(model.Forward(ids), labels);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        Assert.True(losses[^1] < losses[0], string.Join(", ", losses));
        Assert.All(model.GetHead("task").parameters(), p => Assert.True(p.requires_grad));
    }
}
