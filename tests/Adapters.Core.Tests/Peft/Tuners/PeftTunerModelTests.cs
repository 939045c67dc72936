using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using Adapters.Testing;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft.Tuners;

public sealed class PeftTunerModelTests
{
    private static PeftConfig Lora(string fields) => PeftConfig.Create("LORA", JsonNode.Parse(fields)!.AsObject());

    private static Linear LinearAt(nn.Module model, string path) => (Linear)model.named_modules().First(m => m.name == path).module;

    [Fact]
    public void LoRA_on_a_user_module_tree_equals_the_manual_delta_merges_unmerges_and_disables()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyTree();
        model.eval();
        var ids = TinyTree.Ids();
        Tensor baseline;
        using (no_grad()) baseline = model.call(ids).clone();
        var peft = new PeftTunerModel(model);

        // Regex: q of block 1 and both v; init false so that B is not zero; rsLoRA scaling alpha/√r.
        peft.AddAdapter("default", Lora("""{"r": 4, "lora_alpha": 6, "use_rslora": true, "init_lora_weights": false, "target_modules": "blocks\\.(1\\.q|\\d\\.v)"}"""));

        var adapted = model.named_parameters().Select(p => p.name).Where(n => n.Contains("lora_", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["blocks.0.v.lora_A.default.weight", "blocks.0.v.lora_B.default.weight", "blocks.1.q.lora_A.default.weight",
            "blocks.1.q.lora_B.default.weight", "blocks.1.v.lora_A.default.weight", "blocks.1.v.lora_B.default.weight"], adapted);
        var deltas = new Dictionary<Tensor, Tensor>();
        foreach (var path in new[] { "blocks.0.v", "blocks.1.q", "blocks.1.v" })
        {
            var a = model.named_parameters().First(p => p.name == $"{path}.lora_A.default.weight").parameter;
            var b = model.named_parameters().First(p => p.name == $"{path}.lora_B.default.weight").parameter;
            deltas[LinearAt(model, path).weight!] = b.matmul(a).detach() * (6 / Math.Sqrt(4));
        }
        Tensor adaptedOut, manual;
        using (no_grad())
        {
            adaptedOut = model.call(ids).clone();
            using (peft.DisableAdapters()) manual = PeftTestFolders.WithDeltas(deltas, () => model.call(ids).clone());
        }
        Assert.True(allclose(adaptedOut, manual, 1e-5, 1e-6));
        Assert.False(allclose(adaptedOut, baseline, 1e-5, 1e-6));

        using (no_grad())
        {
            using (peft.DisableAdapters()) Assert.True(allclose(model.call(ids), baseline, 1e-6, 1e-7));
            peft.Merge();
            Assert.True(allclose(model.call(ids), manual, 1e-5, 1e-6));
            peft.Unmerge();
            Assert.True(allclose(model.call(ids), manual, 1e-5, 1e-6));
            using (peft.DisableAdapters()) Assert.True(allclose(model.call(ids), baseline, 1e-5, 1e-6));
        }
    }

    [Fact]
    public void Target_rules_exclusions_layers_and_refusals_follow_peft()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using (var llama = ModelFactory.Load(TestPaths.Fixture("python-goldens", "peft", "models", "llama")))
        {
            var onLlama = new PeftTunerModel(llama);
            onLlama.AddAdapter("a", Lora("""{"r": 2, "target_modules": ["q_proj", "v_proj", "o_proj"], "layers_to_transform": [1], "exclude_modules": ["model.layers.1.self_attn.v_proj"]}"""));
            Assert.Equal(["model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.o_proj"], onLlama.LayersOf("a").Select(l => l.Base.Path));
        }

        using var model = new TinyTree();
        var peft = new PeftTunerModel(model);
        // PEFT reads the layer number after a dotted prefix ("….blocks.1."); this tree has none, so nothing is selected.
        var noIndex = Assert.Throws<AdapterConfigException>(() => peft.AddAdapter("a", Lora("""{"target_modules": ["q"], "layers_to_transform": [1]}""")));
        Assert.Contains("not found in the base model", noIndex.Message, StringComparison.Ordinal);

        var none = Assert.Throws<AdapterConfigException>(() => peft.AddAdapter("b", Lora("""{"target_modules": ["nothing"]}""")));
        Assert.Contains("not found in the base model", none.Message, StringComparison.Ordinal);
        var all = Assert.Throws<AdapterConfigException>(() => peft.AddAdapter("c", Lora("""{"target_modules": ["q"], "exclude_modules": "blocks\\.\\d\\.q"}""")));
        Assert.Contains("All modules were excluded", all.Message, StringComparison.Ordinal);
        var loha = Assert.Throws<AdapterConfigException>(() => peft.AddAdapter("d", PeftConfig.Create("LOHA", JsonNode.Parse("""{"target_modules": ["embed"]}""")!.AsObject())));
        Assert.Contains("Target module embed (torch.nn.Embedding) is not supported", loha.Message, StringComparison.Ordinal);
        var noDefault = Assert.Throws<AdapterConfigException>(() => peft.AddAdapter("e", PeftConfig.Create("LOKR")));
        Assert.Contains("Please specify `target_modules`", noDefault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Seq_cls_adds_the_classifier_to_modules_to_save_and_saves_it_under_its_plain_path()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyTree();
        model.eval();
        var ids = TinyTree.Ids();
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("default", Lora("""{"r": 2, "task_type": "SEQ_CLS", "target_modules": ["q"]}"""));

        Assert.Equal(["classifier", "score"], peft.Config("default").StringList("modules_to_save"));
        peft.MarkOnlyAdapterTrainable("default");
        // LoRA on two q's (2·(2·8 + 8·2)) and the classifier copy (8·3 + 3).
        Assert.Equal(2 * (16 + 16) + 27, peft.TrainableParameterCount());
        Assert.False(LinearAt(model, "classifier").weight!.requires_grad);
        var copy = model.named_parameters().First(p => p.name == "classifier.modules_to_save.default.weight").parameter;
        Tensor before;
        using (no_grad())
        {
            before = model.call(ids).clone();
            copy.add_(1);
            Assert.False(allclose(model.call(ids), before));
            using (peft.DisableAdapters()) Assert.True(allclose(model.call(ids), before, 1e-6, 1e-7));
        }

        var dir = Directory.CreateTempSubdirectory("peft-seqcls-").FullName;
        peft.SaveAdapter(dir);
        using var saved = TensorFiles.Load(Path.Combine(dir, PeftFiles.SafetensorsWeights));
        Assert.Contains("base_model.model.classifier.weight", saved.Keys);
        Assert.Contains("base_model.model.classifier.bias", saved.Keys);
        Assert.True(allclose(saved["base_model.model.classifier.weight"], copy.detach()));
    }

    [Fact]
    public void All_linear_lora_on_llama_trains_saves_as_peft_and_reloads_with_identical_outputs()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var folder = TestPaths.Fixture("python-goldens", "peft", "models", "llama");
        using var model = ModelFactory.Load(folder);
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("default", Lora("""{"r": 16, "lora_alpha": 32, "target_modules": "all-linear", "task_type": "CAUSAL_LM"}"""));

        var targets = peft.Config("default").Selector("target_modules")!.Names!;
        Assert.Equal(["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"], targets.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(peft.LayersOf("default"), l => l.Base.Path == "lm_head");
        peft.MarkOnlyAdapterTrainable("default");
        var expectedCount = peft.LayersOf("default").Sum(l => 16 * (l.Base.InFeatures + l.Base.OutFeatures));
        Assert.Equal(expectedCount, peft.TrainableParameterCount());

        var ids = tensor(new long[,] { { 1, 5, 9, 3, 7 } });
        model.Module.train();
        var optimizer = optim.AdamW(model.Module.parameters().Where(p => p.requires_grad), lr: 0.01);
        for (var step = 0; step < 3; step++)
        {
            optimizer.zero_grad();
            var logits = model.CausalLM!.Forward(ids).Logits;
            var loss = nn.functional.cross_entropy(logits[0, ..^1], ids[0, 1..]);
            loss.backward();
            optimizer.step();
        }
        model.Module.eval();
        Tensor expected;
        using (no_grad()) expected = model.CausalLM!.Forward(ids).Logits.clone();

        var dir = Directory.CreateTempSubdirectory("peft-all-linear-").FullName;
        peft.SaveAdapter(dir, baseModelNameOrPath: "models/llama");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftConfig.FileName)))!.AsObject();
        Assert.True(config["inference_mode"]!.GetValue<bool>());
        Assert.Equal("CAUSAL_LM", config["task_type"]!.GetValue<string>());
        Assert.Equal("models/llama", config["base_model_name_or_path"]!.GetValue<string>());
        using (var weights = TensorFiles.Load(Path.Combine(dir, PeftFiles.SafetensorsWeights)))
        {
            Assert.All(weights.Keys, k => Assert.Matches(@"^base_model\.model\.model\.layers\.\d\.(self_attn|mlp)\.\w+_proj\.lora_[AB]\.weight$", k));
            Assert.Equal(peft.LayersOf("default").Count * 2, weights.Count);
        }

        using var fresh = ModelFactory.Load(folder);
        var reloaded = new PeftTunerModel(fresh);
        var result = reloaded.LoadAdapter(dir);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        fresh.Module.eval();
        using (no_grad()) Assert.True(TinyModels.Same(expected, fresh.CausalLM!.Forward(ids).Logits));
    }

    [Fact]
    public void Every_peft_tuner_fixture_round_trips_byte_for_byte()
    {
        Core.TorchRuntime.Initialize();
        var root = TestPaths.Fixture("python-goldens", "peft");
        var checkedFolders = 0;
        foreach (var modelName in new[] { "bert", "gpt2", "llama" })
        {
            foreach (var caseDir in Directory.GetDirectories(Path.Combine(root, modelName)).Order(StringComparer.Ordinal))
            {
                var adapter = Path.Combine(caseDir, "adapter");
                if (!Directory.Exists(adapter) || PeftMethodRegistry.Find(PeftConfig.Read(Path.Combine(adapter, PeftConfig.FileName)).PeftType) is not PeftTunerMethod) continue;
                using var scope = NewDisposeScope();
                using var model = ModelFactory.Load(Path.Combine(root, "models", modelName));
                var peft = new PeftTunerModel(model);
                peft.LoadAdapter(adapter);
                var dir = Directory.CreateTempSubdirectory("peft-roundtrip-").FullName;
                peft.SaveAdapter(dir);
                Assert.True(File.ReadAllBytes(Path.Combine(adapter, PeftConfig.FileName)).SequenceEqual(File.ReadAllBytes(Path.Combine(dir, PeftConfig.FileName))),
                    $"{caseDir}: adapter_config.json differs after the round trip");
                Assert.True(File.ReadAllBytes(Path.Combine(adapter, PeftFiles.SafetensorsWeights)).SequenceEqual(File.ReadAllBytes(Path.Combine(dir, PeftFiles.SafetensorsWeights))),
                    $"{caseDir}: adapter_model.safetensors differs after the round trip");

                var bin = Path.Combine(caseDir, "adapter_bin");
                if (Directory.Exists(bin))
                {
                    using var binModel = ModelFactory.Load(Path.Combine(root, "models", modelName));
                    var fromBin = new PeftTunerModel(binModel);
                    fromBin.LoadAdapter(bin);
                    var binOut = Directory.CreateTempSubdirectory("peft-roundtrip-bin-").FullName;
                    fromBin.SaveAdapter(binOut, safeSerialization: false);
                    using var original = TensorFiles.Load(Path.Combine(bin, PeftFiles.TorchWeights));
                    using var written = TensorFiles.Load(Path.Combine(binOut, PeftFiles.TorchWeights));
                    Assert.Equal(original.Keys.Order(StringComparer.Ordinal), written.Keys.Order(StringComparer.Ordinal));
                    foreach (var key in original.Keys)
                    {
                        Assert.Equal(original[key].dtype, written[key].dtype);
                        Assert.True(TinyModels.Same(original[key], written[key]), $"{bin}: {key} differs");
                    }
                }
                checkedFolders++;
            }
        }
        Assert.Equal(30, checkedFolders);
    }

    [Fact]
    public void Fields_of_newer_peft_are_kept_and_warned_about()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyTree();
        var peft = new PeftTunerModel(model);
        var config = Lora("""{"r": 2, "target_modules": ["q"], "peft_version": "0.18.0", "use_qalora": false}""");

        peft.AddAdapter("default", config);

        Assert.Contains(peft.Warnings, w => w.Contains("\"use_qalora\"", StringComparison.Ordinal));
        var dir = Directory.CreateTempSubdirectory("peft-newer-").FullName;
        peft.SaveAdapter(dir);
        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftConfig.FileName)))!.AsObject();
        Assert.Equal("0.18.0", saved["peft_version"]!.GetValue<string>());
        Assert.False(saved["use_qalora"]!.GetValue<bool>());
    }

    [Fact]
    public void Two_adapters_switch_with_set_adapter_and_each_saves_only_its_tensors()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyTree();
        model.eval();
        var ids = TinyTree.Ids();
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("one", Lora("""{"r": 2, "init_lora_weights": false, "target_modules": ["q"]}"""));
        peft.AddAdapter("two", PeftConfig.Create("IA3", JsonNode.Parse("""{"init_ia3_weights": false, "target_modules": ["v", "ff"], "feedforward_modules": ["ff"]}""")!.AsObject()));

        Tensor one, two;
        using (no_grad())
        {
            one = model.call(ids).clone();
            peft.SetAdapter("two");
            two = model.call(ids).clone();
        }
        Assert.False(allclose(one, two));
        Assert.All(peft.SavedTensors("two"), t => Assert.EndsWith(".ia3_l", t.Key, StringComparison.Ordinal));
        Assert.Equal(["base_model.model.blocks.0.ff.ia3_l", "base_model.model.blocks.0.v.ia3_l", "base_model.model.blocks.1.ff.ia3_l", "base_model.model.blocks.1.v.ia3_l"],
            peft.SavedTensors("two").Select(t => t.Key).Order(StringComparer.Ordinal));
        Assert.Equal([1L, 8L], peft.SavedTensors("two").First(t => t.Key.Contains(".ff.", StringComparison.Ordinal)).Tensor.shape);
        Assert.Equal([8L, 1L], peft.SavedTensors("two").First(t => t.Key.Contains(".v.", StringComparison.Ordinal)).Tensor.shape);
    }

    [Fact]
    public void LoRA_on_an_embedding_uses_peft_bare_tensors_and_equals_the_manual_delta()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyTree();
        model.eval();
        var ids = TinyTree.Ids();
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("default", Lora("""{"r": 3, "lora_alpha": 6, "init_lora_weights": false, "target_modules": ["embed"]}"""));

        Assert.Equal(["base_model.model.embed.lora_embedding_A", "base_model.model.embed.lora_embedding_B"], peft.SavedTensors("default").Select(t => t.Key).Order(StringComparer.Ordinal));
        var a = peft.SavedTensors("default").First(t => t.Key.EndsWith("_A", StringComparison.Ordinal)).Tensor;
        var b = peft.SavedTensors("default").First(t => t.Key.EndsWith("_B", StringComparison.Ordinal)).Tensor;
        Assert.Equal([3L, 20L], a.shape);
        Assert.Equal([8L, 3L], b.shape);
        var embedding = (Embedding)model.named_modules().First(m => m.name == "embed").module;
        Tensor adapted, manual;
        using (no_grad())
        {
            adapted = model.call(ids).clone();
            using (peft.DisableAdapters())
                manual = PeftTestFolders.WithDeltas(new Dictionary<Tensor, Tensor> { [embedding.weight!] = b.matmul(a).t() * 2.0 }, () => model.call(ids).clone());
            Assert.True(allclose(adapted, manual, 1e-5, 1e-6));
            peft.Merge();
            Assert.True(allclose(model.call(ids), manual, 1e-5, 1e-6));
        }
    }

    [Fact]
    public void Save_all_writes_default_at_the_root_and_named_adapters_in_sub_folders_that_load_back()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyTree();
        model.eval();
        var ids = TinyTree.Ids();
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("default", Lora("""{"r": 2, "init_lora_weights": false, "target_modules": ["q"]}"""));
        peft.AddAdapter("other", PeftConfig.Create("LOHA", JsonNode.Parse("""{"r": 2, "init_weights": false, "target_modules": ["ff"]}""")!.AsObject()));
        peft.SetAdapter("other");
        Tensor expected;
        using (no_grad()) expected = model.call(ids).clone();
        var dir = Directory.CreateTempSubdirectory("peft-save-all-").FullName;

        peft.SaveAll(dir);

        Assert.True(File.Exists(Path.Combine(dir, PeftConfig.FileName)));
        Assert.Equal("LOHA", PeftConfig.Read(Path.Combine(dir, "other", PeftConfig.FileName)).PeftType);
        using var fresh = new TinyTree();
        fresh.eval();
        var reloaded = new PeftTunerModel(fresh);
        reloaded.LoadAdapter(dir, "default", setActive: false);
        var result = reloaded.LoadAdapter(Path.Combine(dir, "other"), "other");
        Assert.Empty(result.MissingKeys);
        using (no_grad()) Assert.True(TinyModels.Same(expected, fresh.call(ids)));
    }

    [Fact]
    public void AdaLoRA_rank_pattern_loads_truncated_tensors_and_keeps_init_r_in_the_scaling()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var folder = TestPaths.Fixture("python-goldens", "peft", "models", "bert");
        using var model = ModelFactory.Load(folder);
        model.Module.eval();
        const string Path0 = "encoder.layer.0.attention.self.query";
        var config = PeftConfig.Parse($$$"""
            {"peft_type": "ADALORA", "init_r": 6, "target_r": 3, "lora_alpha": 8, "target_modules": ["query"],
             "rank_pattern": {"{{{Path0}}}.lora_E": [true, false, true, false, true, false], "encoder.layer.1.attention.self.query.lora_E": [false, false, false, false, false, true]}}
            """);
        manual_seed(3);
        var weights = new Dictionary<string, Tensor>
        {
            [$"base_model.model.{Path0}.lora_A"] = randn(3, 64),
            [$"base_model.model.{Path0}.lora_E"] = randn(3, 1),
            [$"base_model.model.{Path0}.lora_B"] = randn(64, 3),
            ["base_model.model.encoder.layer.1.attention.self.query.lora_A"] = randn(1, 64),
            ["base_model.model.encoder.layer.1.attention.self.query.lora_E"] = randn(1, 1),
            ["base_model.model.encoder.layer.1.attention.self.query.lora_B"] = randn(64, 1),
        };
        var ids = tensor(new long[,] { { 5, 17, 42, 8 } });
        var encoder = (ITextEncoder)model.Adapters;
        Tensor baseOut;
        using (no_grad()) baseOut = encoder.Encode(ids).LastHiddenState.clone();
        var peft = new PeftTunerModel(model);

        var result = peft.LoadAdapter(config, weights);

        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        var deltas = new Dictionary<Tensor, Tensor>();
        foreach (var layer in peft.LayersOf("default"))
        {
            var prefix = $"base_model.model.{layer.Base.Path}.";
            deltas[layer.Base.Weight] = weights[prefix + "lora_B"].matmul(weights[prefix + "lora_A"] * weights[prefix + "lora_E"]) * 8 / (6 + 1e-5);
        }
        Tensor adapted, manual;
        using (no_grad())
        {
            adapted = encoder.Encode(ids).LastHiddenState.clone();
            using (peft.DisableAdapters()) manual = PeftTestFolders.WithDeltas(deltas, () => encoder.Encode(ids).LastHiddenState.clone());
        }
        Assert.False(allclose(adapted, baseOut, 1e-4, 1e-5));
        Assert.True(allclose(adapted, manual, 1e-5, 1e-5));
    }

    [Fact]
    public void BOFT_with_several_butterfly_factors_runs_with_one_as_cpu_peft_does_and_says_so()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyTree();
        var peft = new PeftTunerModel(model);

        peft.AddAdapter("default", PeftConfig.Create("BOFT", JsonNode.Parse("""{"boft_block_size": 2, "boft_n_butterfly_factor": 2, "target_modules": ["q"]}""")!.AsObject()));

        Assert.Contains(peft.Warnings, w => w.Contains("boft_n_butterfly_factor=2 runs as 1", StringComparison.Ordinal));
        Assert.All(peft.SavedTensors("default").Where(t => t.Key.EndsWith("boft_R", StringComparison.Ordinal)), t => Assert.Equal([1L, 4L, 2L, 2L], t.Tensor.shape));
    }
}
