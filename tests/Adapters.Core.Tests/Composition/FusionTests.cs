using System.Text;
using Adapters.Core.Composition;
using Adapters.Core.Methods.Fusion;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Composition;

public sealed class FusionTests
{
    private static void SetLinear(TorchSharp.Modules.Linear linear, float[,] weight, float[]? bias = null)
    {
        using var _ = no_grad();
        linear.weight.copy_(tensor(weight));
        if (bias is not null) linear.bias!.copy_(tensor(bias));
    }

    [Fact]
    public void Dynamic_fusion_on_known_weights_matches_the_hand_computed_attention()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Initialize();
        using var layer = new AdapterFusionLayer(AdapterFusionConfig.Dynamic, 2, 0.0);
        layer.eval();
        var modules = layer.named_children().ToDictionary(c => c.name, c => (TorchSharp.Modules.Linear)c.module);
        SetLinear(modules["query"], new float[,] { { 1, 0 }, { 0, 1 } }, [0, 0]);
        SetLinear(modules["key"], new float[,] { { 1, 0 }, { 0, 2 } }, [0, 0]);
        SetLinear(modules["value"], new float[,] { { 0, 1 }, { 1, 0 } });
        var query = tensor(new float[] { 1, 1 }).view(1, 1, 2);
        var ups = tensor(new float[] { 2, 0, 0, 1 }).view(1, 1, 2, 2);
        var residual = tensor(new float[] { 10, 20 }).view(1, 1, 2);

        var (output, probabilities) = layer.Forward(query, ups, residual);

        // keys: K·u1 = [2, 0], K·u2 = [0, 2]; scores q·k = [2, 2]; softmax = [0.5, 0.5];
        // values V·u1 = [0, 2], V·u2 = [1, 0]; context = [0.5, 1.0]; plus residual.
        Assert.True(allclose(tensor(new float[] { 0.5f, 0.5f }).view(1, 1, 2), probabilities, 1e-6, 1e-6));
        Assert.True(allclose(tensor(new float[] { 10.5f, 21f }).view(1, 1, 2), output, 1e-6, 1e-6));
    }

    [Fact]
    public void Static_fusion_with_temperature_softens_the_scores_and_cools_each_pass()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Initialize();
        var config = AdapterFusionConfig.Static with { Temperature = true, ResidualBefore = true };
        using var layer = new AdapterFusionLayer(config, 2, 0.0);
        layer.eval();
        var modules = layer.named_children().ToDictionary(c => c.name, c => (TorchSharp.Modules.Linear)c.module);
        Assert.DoesNotContain("value", modules.Keys);
        SetLinear(modules["query"], new float[,] { { 1, 0 }, { 0, 1 } }, [0, 0]);
        SetLinear(modules["key"], new float[,] { { 1, 0 }, { 0, 1 } }, [0, 0]);
        var query = tensor(new float[] { 1, 0 }).view(1, 1, 2);
        var ups = tensor(new float[] { 3, 0, 0, 1 }).view(1, 1, 2, 2);
        var residual = tensor(new float[] { 1, 1 }).view(1, 1, 2);

        var (output, probabilities) = layer.Forward(query, ups, residual);

        // residual_before adds r to keys and values: u1' = [4, 1], u2' = [1, 2]; scores = [4, 1] / T(=50).
        var p1 = Math.Exp(4 / 50.0) / (Math.Exp(4 / 50.0) + Math.Exp(1 / 50.0));
        var expected = new[] { p1 * 4 + (1 - p1) * 1, p1 * 1 + (1 - p1) * 2 };
        Assert.Equal(p1, probabilities[0, 0, 0].item<float>(), 5);
        Assert.Equal(expected[0], output[0, 0, 0].item<float>(), 5);
        Assert.Equal(expected[1], output[0, 0, 1].item<float>(), 5);
        Assert.Equal(49.95, layer.Temperature, 10);
    }

    [Fact]
    public void Presets_serialise_byte_for_byte_like_python()
    {
        Assert.Equal(
            "{\n  \"dropout_prob\": null,\n  \"key\": true,\n  \"query\": true,\n  \"query_before_ln\": false,\n  \"regularization\": true,\n  \"residual_before\": false,\n  \"temperature\": false,\n  \"value\": true,\n  \"value_before_softmax\": true,\n  \"value_initialized\": true\n}",
            AdapterFusionConfig.Dynamic.ToJsonString());
        var staticJson = AdapterFusionConfig.Static.ToJson();
        Assert.False(staticJson["value"]!.GetValue<bool>());
        Assert.False(staticJson["regularization"]!.GetValue<bool>());
        Assert.False(staticJson["value_initialized"]!.GetValue<bool>());
        Assert.Equal(AdapterFusionConfig.Static, AdapterFusionConfig.FromJson(staticJson));
        Assert.Equal(AdapterFusionConfig.Dynamic, AdapterFusionConfig.Load("dynamic"));
    }

    [Fact]
    public void Fusion_runs_in_the_model_records_attentions_and_is_left_out_of_the_summary()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("a", "seq_bn");
        model.AddAdapter("b", "seq_bn");
        var before = model.AdapterSummaryRows();
        model.AddAdapterFusion(new Fuse("a", "b"), setActive: true);
        model.Setup.OutputFusionAttentions = true;
        using var _ = no_grad();
        var ids = TinyModels.InputIds();

        var output = model.Forward(ids);
        var fused = output.LastHiddenState;

        Assert.Equal(new Fuse("a", "b"), model.ActiveAdapters);
        var attentions = output.AdapterOutputs!.FusionAttentions["a,b"];
        Assert.Equal([0, 1], attentions.Keys.Order());
        var probabilities = attentions[1]["output_adapter"];
        Assert.Equal([2L, 6, 2], probabilities.shape);
        Assert.True(allclose(probabilities.sum(-1), ones(2, 6), 1e-5, 1e-5));
        Assert.Equal(before.Select(r => r.ParameterCount).Take(2), model.AdapterSummaryRows().Select(r => r.ParameterCount).Take(2));
        // seq_bn has no mh_adapter, so only output sites get fusion layers: 2 layers × (q, k with bias + v) .
        Assert.Equal(10, model.GetAdapterFusionStateDict("a,b").Count);
        Assert.Contains("bert.encoder.layer.0.output.adapter_fusion_layer.a,b.query.weight", model.GetAdapterFusionStateDict("a,b").Keys);
        Assert.Equal(2, fused.shape[0]);
    }

    [Fact]
    public void Regularisation_is_a_hundredth_of_the_squared_distance_of_trainable_values_from_identity()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("a", "seq_bn");
        model.AddAdapter("b", "seq_bn");
        model.AddAdapter("c", "seq_bn");
        model.AddAdapterFusion("a,b");
        model.AddAdapterFusion(["b", "c"], AdapterFusionConfig.Static);

        model.TrainAdapterFusion(new Fuse("a", "b"));

        // value_initialized: identity with 1e-6 off the diagonal, 32·31 entries per layer, 2 layers.
        var loss = model.GetFusionRegularizationLoss()!;
        var offDiagonal = (double)(float)1e-6;
        Assert.Equal(0.01 * 2 * 32 * 31 * offDiagonal * offDiagonal, loss.item<float>(), 1e-15);
        Assert.All(model.GetAdapterFusionStateDict("a,b").Keys, k => Assert.True(model.named_parameters().Single(p => "bert." + p.name == k).parameter.requires_grad));
        Assert.All(model.AdapterParameters("a"), p => Assert.False(p.Parameter.requires_grad));

        model.DeleteAdapterFusion("a,b");
        Assert.Null(model.ActiveAdapters);
        Assert.Null(model.GetFusionRegularizationLoss());
    }

    [Fact]
    public void Save_and_load_of_a_fusion_gives_identical_outputs_and_pythons_file_layout()
    {
        using var scope = NewDisposeScope();
        var directory = Directory.CreateTempSubdirectory("fusion-roundtrip-").FullName;
        try
        {
            var ids = TinyModels.InputIds();
            Tensor expected;
            using (var source = TinyModels.Bert())
            {
                source.AddAdapter("a", "double_seq_bn");
                source.AddAdapter("b", "double_seq_bn");
                source.AddAdapterFusion("a,b", setActive: true);
                using (no_grad())
                    foreach (var (key, tensor) in source.GetAdapterFusionStateDict("a,b")) tensor.copy_(randn(tensor.shape) * 0.1);
                using (no_grad()) expected = source.Forward(ids).LastHiddenState;
                source.SaveAdapter(Path.Combine(directory, "a"), "a");
                source.SaveAdapter(Path.Combine(directory, "b"), "b");
                source.SaveAdapterFusion(Path.Combine(directory, "fusion"), "a,b");
            }

            Assert.Equal(
                "{\n  \"adapter_names\": [\n    \"a\",\n    \"b\"\n  ],\n  \"config\": {\n    \"dropout_prob\": null,\n    \"key\": true,\n    \"query\": true,\n    \"query_before_ln\": false,\n    \"regularization\": true,\n    \"residual_before\": false,\n    \"temperature\": false,\n    \"value\": true,\n    \"value_before_softmax\": true,\n    \"value_initialized\": true\n  },\n  \"hidden_size\": 32,\n  \"model_class\": \"BertAdapterModel\",\n  \"model_name\": \"\",\n  \"model_type\": \"bert\",\n  \"name\": \"a,b\",\n  \"version\": \"adapters.1.2.0\"\n}",
                File.ReadAllText(Path.Combine(directory, "fusion", "adapter_fusion_config.json"), Encoding.UTF8));
            using (var saved = TensorFiles.Load(Path.Combine(directory, "fusion", AdapterFusionFiles.FusionTorchFile)))
            {
                // double_seq_bn has both locations: 2 layers × 2 sites × 5 tensors.
                Assert.Equal(20, saved.Count);
                Assert.Contains("bert.encoder.layer.1.attention.output.adapter_fusion_layer.a,b.value.weight", saved.Keys);
            }

            using var target = TinyModels.Bert();
            target.LoadAdapter(Path.Combine(directory, "a"));
            target.LoadAdapter(Path.Combine(directory, "b"));
            var result = target.LoadAdapterFusion(Path.Combine(directory, "fusion"), setActive: true);
            Assert.Equal("a,b", result.Name);
            Assert.Empty(result.UnexpectedKeys);
            using (no_grad()) Assert.True(TinyModels.Same(expected, target.Forward(ids).LastHiddenState));

            var renamed = target.LoadAdapterFusion(Path.Combine(directory, "fusion"), loadAs: "ab");
            Assert.Equal(["a", "b"], target.GetFusionAdapterNames("ab"));
            Assert.Equal("ab", renamed.Name);
            Assert.Equal(20, target.GetAdapterFusionStateDict("ab").Count);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Fusion_needs_existing_bottleneck_adapters()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("a", "seq_bn");
        model.AddAdapter("l", "lora");

        Assert.Throws<ArgumentException>(() => model.AddAdapterFusion("a,missing"));
        Assert.Throws<ArgumentException>(() => model.AddAdapterFusion("a,l"));
        model.AddAdapterFusion("a");
        Assert.Throws<ArgumentException>(() => model.AddAdapterFusion("a"));
        model.AddAdapterFusion("a", AdapterFusionConfig.Static, overwriteOk: true);
        Assert.Equal(AdapterFusionConfig.Static, model.GetFusionConfig("a"));
        Assert.Equal(2, model.Interface.Layers.Sum(l => l.OutputAdapters!.FusionLayers.Count));
    }
}
