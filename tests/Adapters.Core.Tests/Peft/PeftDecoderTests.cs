using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Generation;
using Adapters.Core.Models;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using Adapters.Core.Peft;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft;

/// <summary>PEFT LoRA on GPT-2 (Conv1D, fused c_attn) and Llama (q/k/v/up/down projections).</summary>
public sealed class PeftDecoderTests
{
    [Fact]
    public void Gpt2_export_then_import_gives_the_same_logits_with_fan_in_fan_out_and_a_dense_c_attn_pair()
    {
        using var scope = NewDisposeScope();
        using var source = TinyDecoders.Gpt2();
        source.Transformer.AddAdapter("task", "lora[r=4, alpha=8, attn_matrices=['q','v'], intermediate_lora=True]", setActive: true);
        DecoderAdapterMethodTests.Perturb(source.Transformer, "task");
        using var ids = TinyDecoders.Prompt(batch: 2, length: 6);
        Tensor expected;
        using (no_grad()) expected = source.Forward(ids).Logits;
        var dir = Directory.CreateTempSubdirectory("peft-gpt2-").FullName;
        try
        {
            source.Transformer.SavePeftAdapter(dir, "task");

            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!.AsObject();
            Assert.True(json["fan_in_fan_out"]!.GetValue<bool>());
            Assert.Equal(["c_fc", "c_attn"], json["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()));
            using (var file = Core.Serialization.TensorFiles.Open(Path.Combine(dir, "adapter_model.safetensors")))
            {
                // q and v enabled: one PEFT pair of rank 2·4 whose B keeps the k rows at zero.
                Assert.Equal([8L, 32], file.Tensors.Single(t => t.Name == "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight").Shape);
                Assert.Equal([96L, 8], file.Tensors.Single(t => t.Name == "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight").Shape);
                Assert.Contains(file.Tensors, t => t.Name == "base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight");
            }

            using var target = TinyDecoders.Gpt2();
            var result = target.Transformer.LoadPeftAdapter(dir, "task", new PeftImportOptions { SetActive = true });

            Assert.Empty(result.UnexpectedKeys);
            Tensor actual;
            using (no_grad()) actual = target.Forward(ids).Logits;
            // The block-diagonal pair is taken back apart: same modules, same bits, expressible in adapters' format.
            Assert.True(TinyModels.Same(expected, actual), $"max diff {TinyDecoders.MaxDiff(expected, actual)}");
            var before = source.Transformer.GetAdapterStateDict("task");
            var after = target.Transformer.GetAdapterStateDict("task");
            Assert.Equal(before.Keys.Order(), after.Keys.Order());
            foreach (var (key, tensor) in before) Assert.True(TinyModels.Same(tensor, after[key]), key);
            target.Transformer.EnsureAdaptersExpressible("task");
            TinyDecoders.AssertCacheMatchesRecompute(target, ids, steps: 4);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Gpt2_peft_c_attn_pair_equals_the_conv1d_weight_plus_transposed_delta_w()
    {
        using var scope = NewDisposeScope();
        using var model = TinyDecoders.Gpt2(seed: 5);
        manual_seed(11);
        var a = randn(4, 32) * 0.1;
        var b = randn(96, 4) * 0.1;
        var dir = PeftTestFolders.Write("""
            {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 4, "lora_alpha": 8, "fan_in_fan_out": true, "target_modules": ["c_attn"], "layers_to_transform": [1]}
            """, new Dictionary<string, Tensor>
        {
            ["base_model.model.transformer.h.1.attn.c_attn.lora_A.weight"] = a,
            ["base_model.model.transformer.h.1.attn.c_attn.lora_B.weight"] = b,
        });
        using var ids = TinyDecoders.Prompt(batch: 1, length: 7);
        var weight = model.state_dict()["transformer.h.1.attn.c_attn.weight"];
        Tensor expected;
        using (no_grad())
        {
            // Conv1D stores (in, out); PEFT's fan_in_fan_out adds (B·A)ᵀ·alpha/r.
            var original = weight.clone();
            weight.add_(matmul(b, a).t() * 2.0);
            expected = model.Forward(ids).Logits;
            weight.copy_(original);
        }

        model.Transformer.LoadPeftAdapter(dir, "peft", new PeftImportOptions { SetActive = true });

        Tensor actual;
        using (no_grad()) actual = model.Forward(ids).Logits;
        Assert.True(allclose(expected, actual, rtol: 1e-4, atol: 1e-5), $"max diff {TinyDecoders.MaxDiff(expected, actual)}");
        var config = Assert.IsAssignableFrom<LoRAConfig>(model.Transformer.GetAdapterConfig("peft"));
        Assert.Equal(["q", "k", "v"], config.AttnMatrices);
        Assert.Equal([0], config.LeaveOut);
        model.Transformer.EnsureAdaptersExpressible("peft");
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void Llama_export_then_import_is_bit_identical_with_pefts_module_paths(string type)
    {
        using var scope = NewDisposeScope();
        using var source = TinyDecoders.Llama(TinyDecoders.LlamaConfig(type));
        source.Model.AddAdapter("task", "lora[r=4, alpha=8, attn_matrices=['q','k','v'], intermediate_lora=True, leave_out=[0]]", setActive: true);
        DecoderAdapterMethodTests.Perturb(source.Model, "task");
        using var ids = TinyDecoders.Prompt(batch: 2, length: 6);
        Tensor expected;
        using (no_grad()) expected = source.Forward(ids).Logits;
        var dir = Directory.CreateTempSubdirectory("peft-llama-").FullName;
        try
        {
            source.Model.SavePeftAdapter(dir, "task");

            using (var file = Core.Serialization.TensorFiles.Open(Path.Combine(dir, "adapter_model.safetensors")))
            {
                Assert.Contains(file.Tensors, t => t.Name == "base_model.model.model.layers.1.self_attn.k_proj.lora_A.weight");
                // Python's Llama adapts down_proj as "intermediate"; its Qwen2 interface adapts up_proj.
                var intermediate = type == "qwen2" ? "up_proj" : "down_proj";
                Assert.Contains(file.Tensors, t => t.Name == $"base_model.model.model.layers.1.mlp.{intermediate}.lora_B.weight");
                Assert.DoesNotContain(file.Tensors, t => t.Name.Contains("layers.0.", StringComparison.Ordinal));
            }

            using var target = TinyDecoders.Llama(TinyDecoders.LlamaConfig(type));
            target.Model.LoadPeftAdapter(dir, "task", new PeftImportOptions { SetActive = true });

            using (no_grad()) Assert.True(TinyModels.Same(expected, target.Forward(ids).Logits));
            target.Model.EnsureAdaptersExpressible("task");
            Assert.Equal([0], Assert.IsAssignableFrom<LoRAConfig>(target.Model.GetAdapterConfig("task")).LeaveOut);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("o_proj", "model.layers.0.self_attn.o_proj", 32, 32)]
    [InlineData("gate_proj", "model.layers.0.mlp.gate_proj", 32, 48)]
    public void Llama_peft_targets_without_an_adapters_slot_fail_naming_the_module(string module, string path, long inFeatures, long outFeatures)
    {
        using var scope = NewDisposeScope();
        using var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        var dir = PeftTestFolders.Write($$"""{"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 2, "lora_alpha": 2, "target_modules": ["q_proj", "{{module}}"]}""",
            new Dictionary<string, Tensor>
            {
                [$"base_model.model.{path}.lora_A.weight"] = zeros(2, inFeatures),
                [$"base_model.model.{path}.lora_B.weight"] = zeros(outFeatures, 2),
            });

        var error = Assert.Throws<AdapterLoadException>(() => model.Model.LoadPeftAdapter(dir, "x"));

        Assert.Contains($"'{path}'", error.Message, StringComparison.Ordinal);
        Assert.False(model.Model.HasAdapter("x"));
    }

    [Fact]
    public void Gpt2_fused_ia3_and_rslora_on_c_attn_fail_naming_the_module()
    {
        using var scope = NewDisposeScope();
        using var model = TinyDecoders.Gpt2();
        var dir = PeftTestFolders.Write("""{"peft_type": "LORA", "r": 2, "lora_alpha": 2, "use_rslora": true, "fan_in_fan_out": true, "target_modules": ["c_attn"]}""",
            new Dictionary<string, Tensor>
            {
                ["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"] = zeros(2, 32),
                ["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"] = zeros(96, 2),
                ["base_model.model.transformer.h.1.attn.c_attn.lora_A.weight"] = zeros(2, 32),
                ["base_model.model.transformer.h.1.attn.c_attn.lora_B.weight"] = zeros(96, 2),
            });
        Assert.Contains("transformer.h.0.attn.c_attn", Assert.Throws<AdapterLoadException>(() => model.Transformer.LoadPeftAdapter(dir, "x")).Message, StringComparison.Ordinal);

        model.Transformer.AddAdapter("i", "ia3[attn_matrices=['q','k','v'], intermediate_lora=False]");
        Assert.Contains("h.0.attn.c_attn", Assert.Throws<AdapterConfigException>(() => model.Transformer.CreatePeftAdapter("i")).Message, StringComparison.Ordinal);
    }
}
