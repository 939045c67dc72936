using System.IO.Compression;
using System.Text.Json.Nodes;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Serialization;
using TorchSharp;
using Adapters.Testing;
using Xunit;
using static TorchSharp.torch;
using Folders = Adapters.Core.Tests.Peft.TaskModels.PeftTaskModelFolders;

namespace Adapters.Core.Tests.Peft.TaskModels;

/// <summary>
/// The PEFT folders users try first (a BERT LoRA with its classifier, a GPT-2 LoRA with its score head, a GPT-2 <c>.bin</c>
/// LoRA on c_attn + c_proj) in fixtures/peft-task-models: PEFT's key layout and config, loading onto the task model,
/// outputs against the LoRA formula applied by hand, and saving them back unchanged.
/// </summary>
public sealed class PeftTaskModelFolderTests
{
    private const double Tolerance = 1e-5;

    [Fact]
    public void CommittedFoldersAreWhatTheGeneratorWrites()
    {
        TorchRuntime.Initialize();
        if (Environment.GetEnvironmentVariable("ADAPTERS_REGENERATE_PEFT_TASK_MODELS") == "1") Folders.WriteAll(Folders.Root);
        var temp = Directory.CreateTempSubdirectory("peft-task-").FullName;
        try
        {
            Folders.WriteAll(temp);
            foreach (var name in new[] { Folders.BertSequenceClassification, Folders.Gpt2SequenceClassification, Folders.Gpt2CausalLMBin })
                AssertSameFolder(Path.Combine(Folders.Root, name), Path.Combine(temp, name));
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    // PEFT 0.14's get_peft_model_state_dict: "<module path>.lora_A.<adapter>.weight" without ".<adapter>", the
    // modules_to_save copy "<head>.modules_to_save.<adapter>.<param>" as "<head>.<param>", all under
    // "base_model.model." (PeftModel.base_model = LoraModel, whose .model is the task model).
    public static TheoryData<string, string[]> ExpectedKeys => new()
    {
        {
            Folders.BertSequenceClassification,
            [
                "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight [8, 64]",
                "base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight [64, 8]",
                "base_model.model.bert.encoder.layer.0.attention.self.value.lora_A.weight [8, 64]",
                "base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight [64, 8]",
                "base_model.model.bert.encoder.layer.1.attention.self.query.lora_A.weight [8, 64]",
                "base_model.model.bert.encoder.layer.1.attention.self.query.lora_B.weight [64, 8]",
                "base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight [8, 64]",
                "base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight [64, 8]",
                "base_model.model.classifier.bias [3]",
                "base_model.model.classifier.weight [3, 64]",
            ]
        },
        {
            Folders.Gpt2SequenceClassification,
            [
                "base_model.model.score.weight [2, 64]",
                "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight [8, 64]",
                "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight [192, 8]",
                "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight [8, 64]",
                "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight [192, 8]",
            ]
        },
        {
            Folders.Gpt2CausalLMBin,
            [
                "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight [4, 64]",
                "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight [192, 4]",
                "base_model.model.transformer.h.0.attn.c_proj.lora_A.weight [4, 64]",
                "base_model.model.transformer.h.0.attn.c_proj.lora_B.weight [64, 4]",
                "base_model.model.transformer.h.0.mlp.c_proj.lora_A.weight [4, 128]",
                "base_model.model.transformer.h.0.mlp.c_proj.lora_B.weight [64, 4]",
                "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight [4, 64]",
                "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight [192, 4]",
                "base_model.model.transformer.h.1.attn.c_proj.lora_A.weight [4, 64]",
                "base_model.model.transformer.h.1.attn.c_proj.lora_B.weight [64, 4]",
                "base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight [4, 128]",
                "base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight [64, 4]",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(ExpectedKeys))]
    public void FoldersHavePeftsKeysShapesAndDtypes(string folder, string[] expected)
    {
        var directory = Path.Combine(Folders.Root, folder);
        var files = Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        var weights = folder == Folders.Gpt2CausalLMBin ? PeftFiles.TorchWeights : PeftFiles.SafetensorsWeights;
        Assert.Equal(new[] { "README.md", PeftConfig.FileName, weights }.Order(StringComparer.Ordinal), files);
        // save_pretrained's card: library_name peft and the base model in the front matter.
        var card = Adapters.Hub.Cards.ModelCard.Load(Path.Combine(directory, "README.md"));
        Assert.Equal("peft", card.Metadata.GetString("library_name"));
        Assert.Equal(folder.StartsWith("bert", StringComparison.Ordinal) ? "models/bert" : "models/gpt2", card.Metadata.GetString("base_model"));
        using var file = TensorFiles.Open(Path.Combine(directory, weights));
        Assert.Equal(expected, file.Tensors.Select(t => $"{t.Name} [{string.Join(", ", t.Shape)}]").Order(StringComparer.Ordinal));
        Assert.All(file.Tensors, t => Assert.Equal(TensorDType.F32, t.DType));
    }

    [Fact]
    public void ConfigsHoldWhatPeftSaves()
    {
        var bert = Config(Folders.BertSequenceClassification);
        Assert.Equal("SEQ_CLS", (string?)bert["task_type"]);
        Assert.Equal("models/bert", (string?)bert["base_model_name_or_path"]);
        Assert.True((bool)bert["inference_mode"]!);
        // PeftModelForSequenceClassification appends both automatic head names to the config before saving.
        Assert.Equal(["classifier", "score"], bert["modules_to_save"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["query", "value"], bert["target_modules"]!.AsArray().Select(n => (string)n!));
        Assert.Null(bert["auto_mapping"]);
        Assert.Equal(8, (int)bert["r"]!);

        var gpt2 = Config(Folders.Gpt2SequenceClassification);
        Assert.Equal("0.18.0", (string?)gpt2["peft_version"]);
        Assert.True((bool)gpt2["fan_in_fan_out"]!);
        Assert.Equal(8, (int)gpt2["r"]!);
        Assert.Equal(["classifier", "score"], gpt2["modules_to_save"]!.AsArray().Select(n => (string)n!));

        var bin = Config(Folders.Gpt2CausalLMBin);
        Assert.Equal("CAUSAL_LM", (string?)bin["task_type"]);
        Assert.Null(bin["modules_to_save"]);
        Assert.Equal(["c_attn", "c_proj"], bin["target_modules"]!.AsArray().Select(n => (string)n!));
        // json.dumps(indent=2, sort_keys=True): keys in order, no trailing newline.
        var text = File.ReadAllText(Path.Combine(Folders.Root, Folders.Gpt2CausalLMBin, PeftConfig.FileName));
        Assert.StartsWith("{\n  \"alpha_pattern\": {},\n  \"auto_mapping\": null,\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\"use_rslora\": false\n}", text, StringComparison.Ordinal);
    }

    [Fact]
    public void BertLoraWithClassifierMatchesTheFormulaByHand()
    {
        TorchRuntime.Initialize();
        var directory = Path.Combine(Folders.Root, Folders.BertSequenceClassification);
        using var loaded = PeftPretrainedModel.Load(Folders.BaseModel("bert"), directory);
        Assert.Empty(loaded.Loaded.MissingKeys);
        Assert.Empty(loaded.Loaded.UnexpectedKeys);
        Assert.NotNull(loaded.Classifier);
        Assert.Equal(3, loaded.Classifier!.NumLabels);
        using var ids = Ids();
        using var mask = Mask();
        var actual = loaded.Classifier.Forward(ids, mask);

        using var weights = TensorFiles.Load(Path.Combine(directory, PeftFiles.SafetensorsWeights));
        using var fresh = ModelFactory.Load(Folders.BaseModel("bert"));
        var bert = (BertModel)fresh.Module;
        var parameters = bert.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var deltas = new Dictionary<Tensor, Tensor>();
        foreach (var layer in new[] { 0, 1 })
        {
            foreach (var module in new[] { "query", "value" })
            {
                var prefix = $"base_model.model.bert.encoder.layer.{layer}.attention.self.{module}";
                // nn.Linear weight (out, in) += lora_alpha / r · B·A, with lora_alpha 16, r 8.
                deltas[parameters[$"encoder.layer.{layer}.attention.self.{module}.weight"]] = weights[$"{prefix}.lora_B.weight"].matmul(weights[$"{prefix}.lora_A.weight"]) * 2.0;
            }
        }
        var expected = PeftTestFolders.WithDeltas(deltas, () =>
        {
            using var _ = no_grad();
            var pooled = bert.Forward(ids, mask).PoolerOutput!;
            return nn.functional.linear(pooled, weights["base_model.model.classifier.weight"], weights["base_model.model.classifier.bias"]);
        });
        AssertClose(expected, actual);
    }

    [Fact]
    public void Gpt2LoraWithScoreMatchesTheFormulaByHand()
    {
        TorchRuntime.Initialize();
        var directory = Path.Combine(Folders.Root, Folders.Gpt2SequenceClassification);
        using var loaded = PeftPretrainedModel.Load(Folders.BaseModel("gpt2"), directory);
        Assert.Empty(loaded.Loaded.MissingKeys);
        Assert.Empty(loaded.Loaded.UnexpectedKeys);
        // Fields of PEFT 0.18 are kept and named in warnings; peft_version is known to every method.
        Assert.Contains(loaded.Loaded.Warnings, w => w.Contains("\"target_parameters\"", StringComparison.Ordinal));
        Assert.DoesNotContain(loaded.Loaded.Warnings, w => w.Contains("\"peft_version\"", StringComparison.Ordinal));
        using var ids = Ids();
        using var mask = Mask();
        var actual = loaded.Classifier!.Forward(ids, mask);

        using var weights = TensorFiles.Load(Path.Combine(directory, PeftFiles.SafetensorsWeights));
        using var fresh = ModelFactory.Load(Folders.BaseModel("gpt2"));
        var deltas = Gpt2Deltas(fresh, weights, ["attn.c_attn"], scale: 2.0);
        var expected = PeftTestFolders.WithDeltas(deltas, () =>
        {
            using var _ = no_grad();
            var hidden = ((Gpt2LMHeadModel)fresh.Module).Transformer.Forward(ids, attentionMask: mask);
            // The last token that is not the pad token (id 0): position 6 in row 0, position 4 in row 1.
            var last = stack([hidden[0, 6], hidden[1, 4]]);
            return nn.functional.linear(last, weights["base_model.model.score.weight"]);
        });
        AssertClose(expected, actual);
    }

    [Fact]
    public void Gpt2BinLoraOnCAttnAndCProjMatchesTheFormulaByHand()
    {
        TorchRuntime.Initialize();
        var directory = Path.Combine(Folders.Root, Folders.Gpt2CausalLMBin);
        using var loaded = PeftPretrainedModel.Load(Folders.BaseModel("gpt2"), directory);
        Assert.Empty(loaded.Loaded.MissingKeys);
        Assert.Empty(loaded.Loaded.UnexpectedKeys);
        Assert.Null(loaded.Classifier);
        using var ids = Ids();
        using var mask = Mask();
        Tensor actual;
        using (no_grad()) actual = loaded.Pretrained!.CausalLM!.Forward(ids, attentionMask: mask).Logits;

        using var weights = TensorFiles.Load(Path.Combine(directory, PeftFiles.TorchWeights));
        using var fresh = ModelFactory.Load(Folders.BaseModel("gpt2"));
        var deltas = Gpt2Deltas(fresh, weights, ["attn.c_attn", "attn.c_proj", "mlp.c_proj"], scale: 2.0);
        var expected = PeftTestFolders.WithDeltas(deltas, () =>
        {
            using var _ = no_grad();
            return fresh.CausalLM!.Forward(ids, attentionMask: mask).Logits;
        });
        AssertClose(expected, actual);
    }

    [Theory]
    [InlineData(Folders.BertSequenceClassification, "bert", 2 * 2 * (8 * 64 + 64 * 8) + 3 * 64 + 3)]
    [InlineData(Folders.Gpt2SequenceClassification, "gpt2", 2 * (8 * 64 + 192 * 8) + 2 * 64)]
    [InlineData(Folders.Gpt2CausalLMBin, "gpt2", 2 * ((4 * 64 + 192 * 4) + (4 * 64 + 64 * 4) + (4 * 128 + 64 * 4)))]
    public void TrainableParametersAreTheLoraMatricesAndTheHeadCopy(string folder, string model, long expected)
    {
        TorchRuntime.Initialize();
        using var loaded = PeftPretrainedModel.Load(Folders.BaseModel(model), Path.Combine(Folders.Root, folder));
        loaded.Peft.MarkOnlyAdapterTrainable("default");
        Assert.Equal(expected, loaded.Peft.TrainableParameterCount());
    }

    [Theory]
    [InlineData(Folders.BertSequenceClassification, "bert")]
    [InlineData(Folders.Gpt2SequenceClassification, "gpt2")]
    [InlineData(Folders.Gpt2CausalLMBin, "gpt2")]
    public void FoldersRoundTripUnchanged(string folder, string model)
    {
        TorchRuntime.Initialize();
        var source = Path.Combine(Folders.Root, folder);
        var temp = Directory.CreateTempSubdirectory("peft-rt-").FullName;
        try
        {
            using (var loaded = PeftPretrainedModel.Load(Folders.BaseModel(model), source))
            {
                loaded.Peft.SaveAdapter(temp, safeSerialization: folder != Folders.Gpt2CausalLMBin);
            }
            AssertSameFolder(source, temp);
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    [Fact]
    public void TorchWeightsHaveThePickleTorchSaveWroteForPeft()
    {
        // adapter_model.bin that peft 0.14 wrote with torch.save on PyTorch 1.13 (python goldens, gpt2 lora).
        var python = TestPaths.Fixture("python-goldens", "peft", "gpt2", "lora", "adapter_bin", PeftFiles.TorchWeights);
        using var file = TensorFiles.Open(python);
        var temp = Path.Combine(Directory.CreateTempSubdirectory("peft-bin-").FullName, PeftFiles.TorchWeights);
        try
        {
            TensorFiles.Save(temp, file.AsPayloads());
            using var pythonZip = ZipFile.OpenRead(python);
            using var ourZip = ZipFile.OpenRead(temp);
            foreach (var entry in pythonZip.Entries)
            {
                var ours = ourZip.GetEntry(entry.FullName);
                Assert.True(ours is not null, $"{entry.FullName} is missing from our .bin");
                Assert.Equal(ReadAll(entry), ReadAll(ours!));
            }
            using var reread = TensorFiles.Load(temp);
            Assert.Equal(file.Tensors.Select(t => t.Name), reread.Keys);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(temp)!, recursive: true);
        }
    }

    private static Dictionary<Tensor, Tensor> Gpt2Deltas(PretrainedModel model, IReadOnlyDictionary<string, Tensor> weights, string[] modules, double scale)
    {
        var parameters = model.Module.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var deltas = new Dictionary<Tensor, Tensor>();
        foreach (var layer in new[] { 0, 1 })
        {
            foreach (var module in modules)
            {
                var prefix = $"base_model.model.transformer.h.{layer}.{module}";
                var a = weights[$"{prefix}.lora_A.weight"];
                var b = weights[$"{prefix}.lora_B.weight"];
                var weight = parameters[$"transformer.h.{layer}.{module}.weight"];
                // transformers' Conv1D stores (in, out): fan_in_fan_out LoRA adds (B·A)ᵀ.
                Assert.Equal(new[] { a.shape[1], b.shape[0] }, weight.shape);
                deltas[weight] = b.matmul(a).t() * scale;
            }
        }
        return deltas;
    }

    private static void AssertSameFolder(string expectedDirectory, string actualDirectory)
    {
        var names = Directory.GetFiles(expectedDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(names, Directory.GetFiles(actualDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var name in names)
        {
            var expected = Path.Combine(expectedDirectory, name!);
            var actual = Path.Combine(actualDirectory, name!);
            if (name == PeftFiles.TorchWeights)
            {
                // torch.save draws a new .data/serialization_id each time; everything else must be the same bytes.
                using var e = ZipFile.OpenRead(expected);
                using var a = ZipFile.OpenRead(actual);
                var entries = e.Entries.Where(x => !x.FullName.EndsWith("/.data/serialization_id", StringComparison.Ordinal)).Select(x => x.FullName).ToArray();
                Assert.Equal(entries, a.Entries.Where(x => !x.FullName.EndsWith("/.data/serialization_id", StringComparison.Ordinal)).Select(x => x.FullName));
                foreach (var entry in entries) Assert.True(ReadAll(e.GetEntry(entry)!).SequenceEqual(ReadAll(a.GetEntry(entry)!)), $"{name}: {entry} differs");
            }
            else
            {
                Assert.True(File.ReadAllBytes(expected).SequenceEqual(File.ReadAllBytes(actual)), $"{name} differs from {expected}");
            }
        }
    }

    private static byte[] ReadAll(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static JsonObject Config(string folder) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Folders.Root, folder, PeftConfig.FileName)))!.AsObject();

    private static Tensor Ids() => tensor(Folders.InputIds.SelectMany(r => r.Select(v => (long)v)).ToArray(), [2, 7]);

    private static Tensor Mask() => tensor(Folders.AttentionMask.SelectMany(r => r.Select(v => (long)v)).ToArray(), [2, 7]);

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= Tolerance, $"max abs difference {diff} > {Tolerance}");
    }
}
