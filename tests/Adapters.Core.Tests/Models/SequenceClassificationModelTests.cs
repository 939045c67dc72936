using Adapters.Core.Generation;
using Adapters.Core.Models.Bert;
using Adapters.Core.Models.SequenceClassification;
using Adapters.Core.Serialization;
using Adapters.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

/// <summary>transformers' sequence-classification models: module names, the pooled / last-token logits, a saved head.</summary>
public sealed class SequenceClassificationModelTests
{
    private static string BaseModel(string model) => TestPaths.Fixture("python-goldens", "peft", "models", model);

    [Fact]
    public void Llama_scores_the_last_token_that_is_not_padding_on_either_side()
    {
        TorchRuntime.Initialize();
        using var model = SequenceClassificationModels.Load(BaseModel("llama"), numLabels: 4);
        Assert.Equal("LlamaForSequenceClassification", model.GetName());
        Assert.Equal(["model", "score"], model.named_children().Select(c => c.name));
        Assert.Null(model.Head.bias);
        // pad id 0: right padding (row 0, last real token at 3), left padding (row 1, at 5), none (row 2, at 5).
        using var ids = tensor(new long[] { 5, 17, 42, 8, 0, 0, 0, 0, 9, 11, 13, 15, 3, 4, 5, 6, 7, 8 }, [3, 6]);
        using var mask = ids.ne(0).to(ScalarType.Int64);
        using var _ = no_grad();
        var logits = model.Forward(ids, mask);
        var hidden = ((IDecoderStack)model.Backbone).Forward(ids, attentionMask: mask);
        var expected = nn.functional.linear(stack([hidden[0, 3], hidden[1, 5], hidden[2, 5]]), model.Head.weight);
        Assert.Equal(new long[] { 3, 4 }, logits.shape);
        Assert.True(expected.allclose(logits, 0, 0));
    }

    [Fact]
    public void Bert_takes_the_classifier_a_task_checkpoint_saved_and_classifies_the_pooled_output()
    {
        TorchRuntime.Initialize();
        var folder = Directory.CreateTempSubdirectory("bert-seq-cls-").FullName;
        try
        {
            File.Copy(Path.Combine(BaseModel("bert"), "config.json"), Path.Combine(folder, "config.json"));
            // A BertForSequenceClassification checkpoint: the backbone under "bert.", the head beside it.
            var generator = new Generator(7);
            var classifierWeight = randn([2, 64], generator: generator);
            var classifierBias = randn([2], generator: generator);
            using (var weights = TensorFiles.Load(Path.Combine(BaseModel("bert"), "model.safetensors")))
            {
                var tensors = weights.Select(kv => new KeyValuePair<string, Tensor>("bert." + kv.Key, kv.Value)).ToList();
                tensors.Add(new("classifier.weight", classifierWeight));
                tensors.Add(new("classifier.bias", classifierBias));
                TensorFiles.Save(Path.Combine(folder, "model.safetensors"), tensors);
            }
            using var model = SequenceClassificationModels.Load(folder, numLabels: 2);
            Assert.Equal(["bert", "dropout", "classifier"], model.named_children().Select(c => c.name));
            Assert.True(model.Head.weight.allclose(classifierWeight, 0, 0));
            using var ids = tensor(new long[] { 5, 17, 42, 8, 99, 23, 3 }, [1, 7]);
            using var _ = no_grad();
            var pooled = ((BertModel)model.Backbone).Forward(ids).PoolerOutput!;
            Assert.True(nn.functional.linear(pooled, classifierWeight, classifierBias).allclose(model.Forward(ids), 0, 0));

            var wrongLabels = Assert.Throws<Adapters.Core.Models.AdapterLoadException>(() => SequenceClassificationModels.Load(folder, numLabels: 3));
            Assert.Contains("'classifier.weight' has shape [2, 64] but the head needs [3, 64] (3 labels)", wrongLabels.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
