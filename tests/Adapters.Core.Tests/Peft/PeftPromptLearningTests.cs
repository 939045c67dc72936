using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Peft;
using Adapters.Core.Peft.PromptLearning;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Goldens;
using Adapters.Core.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft;

/// <summary>PEFT prompt tuning, p-tuning, prefix tuning and Llama-Adapter: files as PEFT writes them, training mode, refusals.</summary>
public sealed class PeftPromptLearningTests
{
    public static TheoryData<string> SavedFolders() =>
    [
        "bert/prompt_tuning", "bert/prefix_tuning", "bert/prefix_tuning_projection",
        "gpt2/prompt_tuning", "gpt2/prefix_tuning", "gpt2/prefix_tuning_projection",
        "llama/prompt_tuning", "llama/prefix_tuning", "llama/prefix_tuning_projection", "llama/adaption_prompt",
    ];

    [Theory]
    [MemberData(nameof(SavedFolders))]
    public void A_PEFT_folder_saves_back_byte_for_byte(string folder)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var source = Path.Combine(GoldenCase.Root, "peft", folder, "adapter");
        using var model = ModelFactory.Load(Path.Combine(GoldenCase.Root, "peft", "models", folder.Split('/')[0]));
        model.Adapters.LoadPeftAdapter(source, "loaded");
        var target = Directory.CreateTempSubdirectory("peft-prompt-").FullName;
        try
        {
            model.Adapters.SavePeftPromptLearning(target, "loaded");

            Assert.Equal(File.ReadAllBytes(Path.Combine(source, PeftAdapterConfig.FileName)), File.ReadAllBytes(Path.Combine(target, PeftAdapterConfig.FileName)));
            Assert.Equal(File.ReadAllBytes(Path.Combine(source, PeftFiles.SafetensorsWeights)), File.ReadAllBytes(Path.Combine(target, PeftFiles.SafetensorsWeights)));
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }

    [Theory]
    [InlineData("bert/prompt_tuning")]
    [InlineData("bert/prefix_tuning_projection")]
    public void A_bin_folder_loads_the_same_tensor_as_its_safetensors_twin(string folder)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = ModelFactory.Load(Path.Combine(GoldenCase.Root, "peft", "models", folder.Split('/')[0]));
        model.Adapters.LoadPeftAdapter(Path.Combine(GoldenCase.Root, "peft", folder, "adapter_bin"), "bin");
        model.Adapters.LoadPeftAdapter(Path.Combine(GoldenCase.Root, "peft", folder, "adapter"), "st");

        var fromBin = model.Adapters.CreatePeftPromptLearningState("bin").Weights;
        var fromSafetensors = model.Adapters.CreatePeftPromptLearningState("st").Weights;

        Assert.Equal([PeftPromptLearning.PromptEmbeddingsKey], fromBin.Keys);
        Assert.True(TinyModels.Same(fromSafetensors[PeftPromptLearning.PromptEmbeddingsKey], fromBin[PeftPromptLearning.PromptEmbeddingsKey]));
    }

    [Fact]
    public void A_projected_prefix_trains_its_MLP_and_saves_the_baked_output_which_reloads_with_the_same_logits()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var lm = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        var model = lm.Model;
        var config = PeftPromptLearningConfig.Create(PeftPromptLearningConfig.PrefixTuning, new JsonObject
        {
            ["num_virtual_tokens"] = 3,
            ["prefix_projection"] = true,
            ["encoder_hidden_size"] = 16,
            ["task_type"] = "CAUSAL_LM",
        });
        var completed = model.AddPeftPromptLearningAdapter("prefix", config);
        model.TrainAdapter("prefix");
        var cfg = TinyDecoders.LlamaConfig();
        var width = (long)cfg.NumHiddenLayers * 2 * cfg.KeyValueHeads * cfg.HeadDim;
        // embedding (3, token_dim) + Linear(token_dim, 16) + Linear(16, layers·2·token_dim), as PEFT's PrefixEncoder.
        Assert.Equal(cfg.KeyValueHeads * cfg.HeadDim, completed.TokenDim);
        Assert.Equal(3 * completed.TokenDim + (completed.TokenDim * 16 + 16) + (16 * width + width), model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));

        using var ids = TinyDecoders.Prompt(batch: 2, length: 5);
        var loss = lm.Forward(ids).Logits.square().mean();
        loss.backward();
        Assert.All(model.AdapterParameters("prefix"), p => Assert.True(p.Parameter.grad is { } g && g.abs().sum().item<float>() > 0, p.Key));

        model.eval();
        Tensor expected;
        using (no_grad()) expected = lm.Forward(ids).Logits;
        var dir = Directory.CreateTempSubdirectory("peft-prefix-").FullName;
        try
        {
            model.SavePeftPromptLearning(dir, "prefix");
            var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftAdapterConfig.FileName)))!.AsObject();
            Assert.True(saved["inference_mode"]!.GetValue<bool>());
            Assert.Equal("PREFIX_TUNING", saved["peft_type"]!.GetValue<string>());
            using (var file = TensorFiles.Open(Path.Combine(dir, PeftFiles.SafetensorsWeights)))
                Assert.Equal([3L, width], file.Tensors.Single(t => t.Name == PeftPromptLearning.PromptEmbeddingsKey).Shape);

            using var reloaded = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
            reloaded.Model.LoadPeftAdapter(dir, "prefix", new PeftImportOptions { SetActive = true });
            reloaded.Model.eval();
            Tensor actual;
            using (no_grad()) actual = reloaded.Forward(ids).Logits;
            Assert.True(TinyDecoders.MaxDiff(expected, actual) < 1e-5f, $"max diff {TinyDecoders.MaxDiff(expected, actual)}");
            TinyDecoders.AssertCacheMatchesRecompute(reloaded, ids, steps: 3);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("MLP")]
    [InlineData("LSTM")]
    public void P_tuning_counts_PEFTs_encoder_and_bakes_into_the_same_prompt(string reparameterization)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var lm = TinyDecoders.Gpt2();
        var model = lm.Transformer;
        var config = PeftPromptLearningConfig.Create(PeftPromptLearningConfig.PTuning, new JsonObject
        {
            ["num_virtual_tokens"] = 4,
            ["encoder_hidden_size"] = 8,
            ["encoder_reparameterization_type"] = reparameterization,
            ["encoder_num_layers"] = 1,
        });
        var completed = model.AddPeftPromptLearningAdapter("ptune", config, setActive: true);
        model.TrainAdapter("ptune");
        long d = completed.TokenDim, h = 8;
        var expectedCount = reparameterization == "MLP"
            ? 4 * d + (d * h + h) + (h * h + h) + (h * d + d)
            // bidirectional LSTM of one layer: per direction 4h·(d + h) weights and two 4h biases; then Linear(2h,2h), Linear(2h,d).
            : 4 * d + 2 * (4 * h * (d + h) + 8 * h) + (2 * h * 2 * h + 2 * h) + (2 * h * d + d);
        Assert.Equal(expectedCount, model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));

        model.eval();
        using var ids = TinyDecoders.Prompt(batch: 2, length: 5);
        Tensor before;
        using (no_grad()) before = lm.Forward(ids).Logits;
        Assert.Equal(5 + 4, before.shape[1]);
        model.BakePeftPromptEncoder("ptune");
        Tensor after;
        using (no_grad()) after = lm.Forward(ids).Logits;
        Assert.True(TinyModels.Same(before, after));
        Assert.Equal(4 * d, model.AdapterParameters("ptune").Sum(p => p.Parameter.numel()));
    }

    [Fact]
    public void Prompt_tuning_on_a_decoder_decodes_the_same_with_and_without_the_cache()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var lm = TinyDecoders.Gpt2();
        lm.Transformer.AddPeftPromptLearningAdapter("prompt", PeftPromptLearningConfig.Create(PeftPromptLearningConfig.PromptTuning, new JsonObject { ["num_virtual_tokens"] = 3 }), setActive: true);
        lm.Transformer.eval();
        using var ids = TinyDecoders.Prompt(batch: 1, length: 4);
        TinyDecoders.AssertCacheMatchesRecompute(lm, ids, steps: 3);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("mistral")]
    public void A_new_Llama_Adapter_leaves_outputs_unchanged_until_its_gate_opens(string modelType)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var lm = TinyDecoders.Llama(TinyDecoders.LlamaConfig(modelType));
        lm.Model.eval();
        using var ids = TinyDecoders.Prompt(batch: 2, length: 5);
        Tensor baseline;
        using (no_grad()) baseline = lm.Forward(ids).Logits;
        var config = PeftPromptLearningConfig.Create(PeftPromptLearningConfig.AdaptionPrompt, new JsonObject { ["adapter_len"] = 3, ["adapter_layers"] = 1 });
        lm.Model.AddPeftPromptLearningAdapter("llama_adapter", config, setActive: true);
        lm.Model.TrainAdapter("llama_adapter");
        lm.Model.eval();
        Tensor closed;
        using (no_grad()) closed = lm.Forward(ids).Logits;
        Assert.True(TinyModels.Same(baseline, closed));
        var hidden = TinyDecoders.LlamaConfig().HiddenSize;
        Assert.Equal(3L * hidden + 1, lm.Model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));
        var keys = lm.Model.CreatePeftPromptLearningState("llama_adapter").Weights.Keys.Order(StringComparer.Ordinal).ToArray();
        var last = TinyDecoders.LlamaConfig().NumHiddenLayers - 1;
        Assert.Equal([$"base_model.model.model.layers.{last}.self_attn.adaption_gate", $"base_model.model.model.layers.{last}.self_attn.adaption_prompt"], keys);

        using (no_grad()) lm.Model.AdapterParameters("llama_adapter").Single(p => p.Key.EndsWith("adaption_gate", StringComparison.Ordinal)).Parameter.fill_(0.5);
        Tensor open;
        using (no_grad()) open = lm.Forward(ids).Logits;
        Assert.False(TinyModels.Same(baseline, open));
        TinyDecoders.AssertCacheMatchesRecompute(lm, ids, steps: 3);
    }

    [Fact]
    public void Refusals_name_PEFTs_reason()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var gpt2 = TinyDecoders.Gpt2();
        var adaption = PeftPromptLearningConfig.Create(PeftPromptLearningConfig.AdaptionPrompt, new JsonObject { ["adapter_len"] = 2, ["adapter_layers"] = 1 });
        var ex = Assert.Throws<AdapterConfigException>(() => gpt2.Transformer.AddPeftPromptLearningAdapter("a", adaption));
        Assert.Contains("Unsupported model type for adaption prompt: 'gpt2'", ex.Message, StringComparison.Ordinal);

        using var qwen2 = TinyDecoders.Llama(TinyDecoders.LlamaConfig("qwen2"));
        ex = Assert.Throws<AdapterConfigException>(() => qwen2.Model.AddPeftPromptLearningAdapter("a", adaption));
        Assert.Contains("Unsupported model type for adaption prompt: 'qwen2'", ex.Message, StringComparison.Ordinal);

        using var llama = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        var tooMany = adaption.Replace(new JsonObject { ["adapter_layers"] = 99 });
        ex = Assert.Throws<AdapterConfigException>(() => llama.Model.AddPeftPromptLearningAdapter("a", (PeftPromptLearningConfig)tooMany));
        Assert.Contains("more adapter layers '99'", ex.Message, StringComparison.Ordinal);

        var wrongLayers = PeftPromptLearningConfig.Create(PeftPromptLearningConfig.PrefixTuning, new JsonObject { ["num_virtual_tokens"] = 2, ["num_layers"] = 7 });
        ex = Assert.Throws<AdapterConfigException>(() => llama.Model.AddPeftPromptLearningAdapter("p", wrongLayers));
        Assert.Contains("num_layers 7", ex.Message, StringComparison.Ordinal);
        Assert.False(llama.Model.HasAdapter("p"));

        var folder = PeftTestFolders.Write(
            """{"peft_type": "PROMPT_TUNING", "num_virtual_tokens": 2, "token_dim": 32, "num_layers": 2, "num_attention_heads": 4, "num_transformer_submodules": 1, "task_type": "CAUSAL_LM"}""",
            new Dictionary<string, Tensor> { ["prompt_embeddings"] = zeros(3, 32) });
        try
        {
            var load = Assert.Throws<AdapterLoadException>(() => gpt2.Transformer.LoadPeftAdapter(folder, "p"));
            Assert.Contains("'prompt_embeddings' has shape [3, 32] but the config needs [2, 32]", load.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("gpt2/prompt_tuning")]
    [InlineData("gpt2/prefix_tuning")]
    [InlineData("llama/prompt_tuning")]
    public void PEFT_to_adapters_and_back_gives_the_same_PEFT_folder_byte_for_byte(string folder)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var source = Path.Combine(GoldenCase.Root, "peft", folder, "adapter");
        using var model = ModelFactory.Load(Path.Combine(GoldenCase.Root, "peft", "models", folder.Split('/')[0]));
        model.Adapters.LoadPeftAdapter(source, "peft");
        var converted = model.Adapters.ConvertPeftPromptLearningToAdapters("peft", "adapters");
        Assert.Equal(folder.EndsWith("prefix_tuning", StringComparison.Ordinal) ? "prefix_tuning" : "prompt_tuning", converted.Architecture);
        model.Adapters.DeleteAdapter("peft");

        if (converted is PromptTuningConfig)
        {
            // Decoders prepend adapters' prompt to the token embeddings as PEFT does: without padding the logits agree.
            using var ids = tensor(new long[,] { { 5, 17, 42, 8, 99, 23, 3 } });
            using var reference = ModelFactory.Load(Path.Combine(GoldenCase.Root, "peft", "models", folder.Split('/')[0]));
            reference.Adapters.LoadPeftAdapter(source, "peft", new PeftImportOptions { SetActive = true });
            reference.Module.eval();
            model.Adapters.SetActiveAdapters("adapters");
            model.Module.eval();
            using var _ = no_grad();
            Assert.True(TinyModels.Same(reference.CausalLM!.Forward(ids).Logits, model.CausalLM!.Forward(ids).Logits));
        }

        model.Adapters.ConvertAdaptersToPeftPromptLearning("adapters", "back", taskType: "CAUSAL_LM", baseModelNameOrPath: $"models/{folder.Split('/')[0]}");
        var target = Directory.CreateTempSubdirectory("peft-back-").FullName;
        try
        {
            model.Adapters.SavePeftPromptLearning(target, "back");
            Assert.Equal(File.ReadAllText(Path.Combine(source, PeftAdapterConfig.FileName)), File.ReadAllText(Path.Combine(target, PeftAdapterConfig.FileName)));
            Assert.Equal(File.ReadAllBytes(Path.Combine(source, PeftFiles.SafetensorsWeights)), File.ReadAllBytes(Path.Combine(target, PeftFiles.SafetensorsWeights)));
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }

    [Fact]
    public void Llama_Adapter_has_no_adapters_counterpart()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = ModelFactory.Load(Path.Combine(GoldenCase.Root, "peft", "models", "llama"));
        model.Adapters.LoadPeftAdapter(Path.Combine(GoldenCase.Root, "peft", "llama", "adaption_prompt", "adapter"), "peft");
        var ex = Assert.Throws<AdapterConfigException>(() => model.Adapters.ConvertPeftPromptLearningToAdapters("peft", "adapters"));
        Assert.Contains("ADAPTION_PROMPT", ex.Message, StringComparison.Ordinal);
        Assert.False(model.Adapters.HasAdapter("adapters"));
        // Nor does it have an adapters folder: saving one would write what Python's adapters cannot load.
        var dir = Directory.CreateTempSubdirectory("peft-as-adapters-").FullName;
        try
        {
            ex = Assert.Throws<AdapterConfigException>(() => model.Adapters.SaveAdapter(dir, "peft"));
            Assert.Contains("SavePeftPromptLearning", ex.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TEXT_init_cycles_the_tokenized_text_over_the_virtual_tokens_as_PEFT_does()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var lm = TinyDecoders.Gpt2();
        var model = lm.Transformer;
        var fields = new JsonObject { ["num_virtual_tokens"] = 5, ["prompt_tuning_init"] = "TEXT", ["prompt_tuning_init_text"] = "classify" };
        var ex = Assert.Throws<AdapterConfigException>(() => PeftPromptLearningConfig.Create(PeftPromptLearningConfig.PromptTuning, fields));
        Assert.Contains("tokenizer_name_or_path can't be None", ex.Message, StringComparison.Ordinal);

        fields["tokenizer_name_or_path"] = "gpt2";
        var config = PeftPromptLearningConfig.Create(PeftPromptLearningConfig.PromptTuning, fields);
        Assert.Throws<AdapterConfigException>(() => model.AddPeftPromptLearningAdapter("p", config));
        model.PromptTokenizer = text => text == "classify" ? [3L, 7L] : throw new InvalidOperationException(text);
        model.AddPeftPromptLearningAdapter("p", config);

        using var rows = tensor(new long[] { 3, 7, 3, 7, 3 });
        var expected = model.TokenEmbeddings.index_select(0, rows);
        var prompt = model.CreatePeftPromptLearningState("p").Weights[PeftPromptLearning.PromptEmbeddingsKey];
        Assert.True(TinyModels.Same(expected, prompt));
    }
}
