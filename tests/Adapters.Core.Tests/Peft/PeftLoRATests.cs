using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Peft;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft;

public sealed class PeftLoRATests
{
    [Fact]
    public void Export_then_import_gives_identical_outputs_and_pefts_keys()
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Bert(seed: 3);
        source.AddAdapter("task", "lora[r=4, alpha=8, output_lora=True, leave_out=[1], init_weights='bert']", setActive: true);
        var ids = TinyModels.InputIds();
        Tensor expected;
        using (no_grad()) expected = source.Forward(ids).LastHiddenState;
        var dir = Directory.CreateTempSubdirectory("peft-export-").FullName;

        source.SavePeftAdapter(dir, "task");

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!.AsObject();
        Assert.Equal("LORA", json["peft_type"]!.GetValue<string>());
        Assert.Equal(4, json["r"]!.GetValue<int>());
        Assert.Equal(8, json["lora_alpha"]!.GetValue<int>());
        Assert.Equal(["query", "value", "0.output.dense"], json["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal([0], json["layers_to_transform"]!.AsArray().Select(n => n!.GetValue<int>()));
        using (var file = Core.Serialization.TensorFiles.Open(Path.Combine(dir, "adapter_model.safetensors")))
        {
            Assert.Equal(6, file.Tensors.Count);
            Assert.Contains(file.Tensors, t => t.Name == "base_model.model.encoder.layer.0.attention.self.query.lora_A.weight");
            Assert.Contains(file.Tensors, t => t.Name == "base_model.model.encoder.layer.0.output.dense.lora_B.weight");
        }

        using var target = TinyModels.Bert(seed: 3);
        var result = target.LoadPeftAdapter(dir, "task", new PeftImportOptions { SetActive = true });

        Assert.Empty(result.UnexpectedKeys);
        using (no_grad()) Assert.True(TinyModels.Same(expected, target.Forward(ids).LastHiddenState));
        var config = Assert.IsAssignableFrom<LoRAConfig>(target.GetAdapterConfig("task"));
        Assert.Equal(["q", "v"], config.AttnMatrices);
        Assert.True(config.OutputLora);
        Assert.Equal([1], config.LeaveOut);
        target.EnsureAdaptersExpressible("task");
    }

    [Fact]
    public void Hand_written_folder_with_patterns_regex_and_fan_in_fan_out_matches_manual_delta_w()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert(seed: 5);
        manual_seed(11);
        var weights = new Dictionary<string, Tensor>();
        // Regex target: query and value of layer 1 and the intermediate projection of every layer.
        var modules = new (string Path, long In, long Out, int R, double Scale)[]
        {
            // rank_pattern gives layer 1's query r=2; alpha_pattern "value" gives alpha 3; rsLoRA: alpha/√r.
            ("encoder.layer.1.attention.self.query", 32, 32, 2, 16 / Math.Sqrt(2)),
            ("encoder.layer.1.attention.self.value", 32, 32, 4, 3 / Math.Sqrt(4)),
            ("encoder.layer.0.intermediate.dense", 32, 64, 4, 16 / Math.Sqrt(4)),
            ("encoder.layer.1.intermediate.dense", 32, 64, 4, 16 / Math.Sqrt(4)),
        };
        foreach (var (path, inFeatures, outFeatures, r, _) in modules)
        {
            weights[$"base_model.model.{path}.lora_A.weight"] = randn(r, inFeatures) * 0.1;
            weights[$"base_model.model.{path}.lora_B.weight"] = randn(outFeatures, r) * 0.1;
        }
        var dir = PeftTestFolders.Write("""
            {"peft_type": "LORA", "task_type": null, "r": 4, "lora_alpha": 16, "lora_dropout": 0.1, "fan_in_fan_out": true,
             "use_rslora": true, "bias": "none", "target_modules": "encoder\\.layer\\.1\\.attention\\.self\\.(query|value)|.*intermediate\\.dense",
             "rank_pattern": {"layer.1.attention.self.query": 2}, "alpha_pattern": {"value": 3}, "modules_to_save": null}
            """, weights);
        var ids = TinyModels.InputIds();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var deltas = modules.ToDictionary(
            m => parameters[m.Path + ".weight"],
            m => matmul(weights[$"base_model.model.{m.Path}.lora_B.weight"], weights[$"base_model.model.{m.Path}.lora_A.weight"]) * m.Scale);
        Tensor expected;
        using (no_grad()) expected = PeftTestFolders.WithDeltas(deltas, () => model.Forward(ids).LastHiddenState);

        var result = model.LoadPeftAdapter(dir, "peft", new PeftImportOptions { SetActive = true });

        Assert.Empty(result.UnexpectedKeys);
        Tensor actual;
        using (no_grad()) actual = model.Forward(ids).LastHiddenState;
        Assert.True(allclose(expected, actual, rtol: 1e-4, atol: 1e-5), $"max diff {(expected - actual).abs().max().item<float>()}");
        // The layer-0 query is not selected by the regex, so it carries no module.
        Assert.DoesNotContain(model.GetAdapterStateDict("peft").Keys, k => k.Contains("layer.0.attention.self.query", StringComparison.Ordinal));
        var error = Assert.Throws<AdapterConfigException>(() => model.EnsureAdaptersExpressible("peft"));
        Assert.Contains("encoder.layer.0.attention.self.query", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reexport_keeps_rank_and_alpha_patterns()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert(seed: 5);
        var weights = new Dictionary<string, Tensor>();
        foreach (var layer in new[] { 0, 1 })
        {
            var r = layer == 1 ? 2 : 4;
            weights[$"base_model.model.encoder.layer.{layer}.attention.self.query.lora_A.weight"] = randn(r, 32);
            weights[$"base_model.model.encoder.layer.{layer}.attention.self.query.lora_B.weight"] = randn(32, r);
        }
        var dir = PeftTestFolders.Write("""
            {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["query"], "rank_pattern": {"encoder.layer.1.attention.self.query": 2}, "alpha_pattern": {"encoder.layer.1.attention.self.query": 5}}
            """, weights);
        model.LoadPeftAdapter(dir, "p");

        var (config, exported) = model.CreatePeftAdapter("p");

        Assert.Equal(4, config.R);
        Assert.Equal(8, config.LoraAlpha);
        Assert.Equal([new KeyValuePair<string, int>("encoder.layer.1.attention.self.query", 2)], config.RankPattern);
        Assert.Equal([new KeyValuePair<string, double>("encoder.layer.1.attention.self.query", 5)], config.AlphaPattern);
        Assert.Equal(["query"], config.TargetModules!.Names!);
        foreach (var (key, tensor) in weights) Assert.True(TinyModels.Same(tensor, exported[key]), key);
    }

    [Fact]
    public void Impossible_mappings_fail_naming_the_module()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var dense = PeftTestFolders.Write("""{"peft_type": "LORA", "r": 2, "lora_alpha": 2, "target_modules": ["dense"]}""",
            new Dictionary<string, Tensor> { ["base_model.model.encoder.layer.0.intermediate.dense.lora_A.weight"] = zeros(2, 32) });
        var error = Assert.Throws<AdapterLoadException>(() => model.LoadPeftAdapter(dense, "x"));
        Assert.Contains("'encoder.layer.0.attention.output.dense'", error.Message, StringComparison.Ordinal);

        var embedding = PeftTestFolders.Write("""{"peft_type": "LORA", "r": 2, "lora_alpha": 2, "target_modules": ["query"]}""",
            new Dictionary<string, Tensor>
            {
                ["base_model.model.embeddings.word_embeddings.lora_embedding_A"] = zeros(2, 50),
                ["base_model.model.embeddings.word_embeddings.lora_embedding_B"] = zeros(32, 2),
            });
        error = Assert.Throws<AdapterLoadException>(() => model.LoadPeftAdapter(embedding, "x"));
        Assert.Contains("embeddings.word_embeddings", error.Message, StringComparison.Ordinal);

        var dora = PeftTestFolders.Write("""{"peft_type": "LORA", "r": 2, "lora_alpha": 2, "target_modules": ["query"], "use_dora": true}""",
            new Dictionary<string, Tensor> { ["base_model.model.encoder.layer.0.attention.self.query.lora_A.weight"] = zeros(2, 32) });
        Assert.Contains("use_dora", Assert.Throws<AdapterConfigException>(() => model.LoadPeftAdapter(dora, "x")).Message, StringComparison.Ordinal);
        Assert.False(model.HasAdapter("x"));

        model.AddAdapter("v", "vera");
        Assert.Contains("encoder.layer.0.attention.self.query", Assert.Throws<AdapterConfigException>(() => model.CreatePeftAdapter("v")).Message, StringComparison.Ordinal);
        model.AddAdapter("d", "dora");
        Assert.Contains("DoRA at 'encoder.layer.0.attention.self.query'", Assert.Throws<AdapterConfigException>(() => model.CreatePeftAdapter("d")).Message, StringComparison.Ordinal);
        model.AddAdapter("bn", "lora|seq_bn");
        Assert.Contains("adapters.bn.", Assert.Throws<AdapterConfigException>(() => model.CreatePeftAdapter("bn")).Message, StringComparison.Ordinal);
    }
}
