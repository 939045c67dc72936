using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Heads;

public sealed class StaticHeadConversionTests
{
    private const string StaticBertHead = """
        {
          "config": null,
          "hidden_size": 32,
          "label2id": {
            "NEG": 0,
            "POS": 1
          },
          "model_class": "BertForSequenceClassification",
          "model_name": "tiny-bert",
          "model_type": "bert",
          "name": null,
          "num_labels": 2,
          "version": "adapters.1.2.0"
        }
        """;

    [Fact]
    public void A_static_bert_classifier_becomes_a_flex_head_that_computes_the_same_logits()
    {
        using var scope = NewDisposeScope();
        using var model = new FlexHeadModel(TinyModels.Bert(seed: 4));
        model.eval();
        var weight = randn(2, 32);
        var bias = randn(2);
        var weights = new Dictionary<string, Tensor> { ["classifier.weight"] = weight, ["classifier.bias"] = bias };

        var result = model.LoadHeadStateDict(HeadConfigFile.Parse(StaticBertHead), weights);

        Assert.Equal("default", result.Name);
        Assert.Empty(result.UnexpectedKeys);
        Assert.True(TinyModels.Same(weight, model.GetHeadStateDict("default")["heads.default.1.weight"]));
        var ids = TinyModels.InputIds();
        var pooled = ((ITextEncoder)model.BaseModel).Encode(ids).PoolerOutput!;
        var expected = nn.functional.linear(pooled, weight, bias);
        var logits = model.Forward(ids, head: "default");
        Assert.True(allclose(expected, logits, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void A_static_roberta_classifier_maps_dense_and_out_proj_to_layers_1_and_4()
    {
        using var scope = NewDisposeScope();
        using var model = new FlexHeadModel(TinyModels.Bert());
        var file = HeadConfigFile.Parse(StaticBertHead.Replace("BertForSequenceClassification", "RobertaForSequenceClassification", StringComparison.Ordinal));
        var weights = new Dictionary<string, Tensor>
        {
            ["classifier.dense.weight"] = randn(32, 32),
            ["classifier.dense.bias"] = randn(32),
            ["classifier.out_proj.weight"] = randn(2, 32),
            ["classifier.out_proj.bias"] = randn(2),
        };

        var result = model.LoadHeadStateDict(file, weights, loadAs: "sst");

        Assert.Equal("sst", result.Name);
        Assert.Equal(["heads.sst.1.bias", "heads.sst.1.weight", "heads.sst.4.bias", "heads.sst.4.weight"], model.GetHeadStateDict("sst").Keys.Order(StringComparer.Ordinal));
        Assert.True(TinyModels.Same(weights["classifier.out_proj.weight"], model.GetHeadStateDict("sst")["heads.sst.4.weight"]));
    }

    [Fact]
    public void A_static_head_of_an_unknown_class_names_the_class()
    {
        using var model = new FlexHeadModel(TinyModels.Bert());
        var file = HeadConfigFile.Parse(StaticBertHead.Replace("BertForSequenceClassification", "BertForNextSentencePrediction", StringComparison.Ordinal));

        var ex = Assert.Throws<AdapterLoadException>(() => model.LoadHeadStateDict(file, new Dictionary<string, Tensor>()));

        Assert.Contains("BertForNextSentencePrediction", ex.Message, StringComparison.Ordinal);
    }
}
