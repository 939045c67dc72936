using Adapters.Core.Composition;
using Adapters.Core.Configuration;
using Adapters.Core.Generation;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Serialization;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models.Gpt2;

public sealed class Gpt2ModelTests
{
    [Fact]
    public void Forward_gives_vocab_logits_and_the_state_dict_has_hf_names_and_conv1d_layout()
    {
        using var model = TinyDecoders.Gpt2();
        using var prompt = TinyDecoders.Prompt(batch: 2, length: 6);
        var output = model.Forward(prompt);
        Assert.Equal(new long[] { 2, 6, TinyDecoders.Vocab }, output.Logits.shape);
        var state = model.state_dict();
        Assert.Equal(new long[] { 32, 96 }, state["transformer.h.0.attn.c_attn.weight"].shape);
        Assert.Equal(new long[] { 32, 32 }, state["transformer.h.1.attn.c_proj.weight"].shape);
        Assert.Equal(new long[] { 32, 128 }, state["transformer.h.0.mlp.c_fc.weight"].shape);
        Assert.Equal(new long[] { 128, 32 }, state["transformer.h.0.mlp.c_proj.weight"].shape);
        Assert.Equal(new long[] { 64, 32 }, state["transformer.wpe.weight"].shape);
        Assert.Contains("transformer.ln_f.weight", state.Keys);
        Assert.DoesNotContain("lm_head.weight", state.Keys);
        // Tied head: the logits are the final hidden states times wte.
        var expected = matmul(output.HiddenStates, model.Transformer.TokenEmbeddings.t());
        Assert.True(allclose(expected, output.Logits, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Causal_mask_hides_future_tokens()
    {
        using var model = TinyDecoders.Gpt2();
        using var a = tensor(new long[] { 5, 6, 7, 8 }).unsqueeze(0);
        using var b = tensor(new long[] { 5, 6, 9, 1 }).unsqueeze(0);
        var la = model.Forward(a).Logits;
        var lb = model.Forward(b).Logits;
        Assert.True(allclose(la.narrow(1, 0, 2), lb.narrow(1, 0, 2), rtol: 1e-5, atol: 1e-6));
        Assert.False(allclose(la.narrow(1, 2, 1), lb.narrow(1, 2, 1)));
    }

    [Fact]
    public void Cached_greedy_generation_equals_full_recompute()
    {
        using var model = TinyDecoders.Gpt2();
        TinyDecoders.AssertCacheMatchesRecompute(model, TinyDecoders.Prompt());
    }

    [Fact]
    public void Left_padded_batch_generates_what_each_prompt_generates_alone()
    {
        using var model = TinyDecoders.Gpt2();
        var options = new GenerationOptions { MaxNewTokens = 5, StopTokenIds = [] };
        using var shortPrompt = tensor(new long[] { 4, 9, 13 }).unsqueeze(0);
        using var longPrompt = tensor(new long[] { 7, 2, 30, 41, 8 }).unsqueeze(0);
        var alone = TextGenerator.Generate(model, shortPrompt, options).NewTokens[0];
        var aloneLong = TextGenerator.Generate(model, longPrompt, options).NewTokens[0];
        using var batch = tensor(new long[] { 0, 0, 4, 9, 13, 7, 2, 30, 41, 8 }).reshape(2, 5);
        using var mask = tensor(new long[] { 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 }).reshape(2, 5);
        var together = TextGenerator.Generate(model, batch, options, mask);
        Assert.Equal(alone, together.NewTokens[0]);
        Assert.Equal(aloneLong, together.NewTokens[1]);
    }

    [Fact]
    public void LoRA_on_fused_c_attn_uses_pythons_merged_linear_keys_and_merges_exactly()
    {
        using var model = TinyDecoders.Gpt2();
        var config = new LoRAConfig { R = 4, Alpha = 8, InitWeights = "bert", IntermediateLora = true, OutputLora = true };
        model.Transformer.AddAdapter("a", config, setActive: true);
        var keys = model.Transformer.GetAdapterStateDict("a");
        // LoRAMergedLinear for q and v: A (r·2, in), B (out/3·2, r).
        Assert.Equal(new long[] { 8, 32 }, keys["transformer.h.0.attn.c_attn.loras.a.lora_A"].shape);
        Assert.Equal(new long[] { 64, 4 }, keys["transformer.h.0.attn.c_attn.loras.a.lora_B"].shape);
        Assert.Equal(new long[] { 4, 32 }, keys["transformer.h.1.mlp.c_fc.loras.a.lora_A"].shape);
        Assert.Equal(new long[] { 128, 4 }, keys["transformer.h.1.mlp.c_fc.loras.a.lora_B"].shape);
        Assert.Equal(new long[] { 4, 128 }, keys["transformer.h.1.mlp.c_proj.loras.a.lora_A"].shape);
        Assert.Equal(12, keys.Count);

        using var prompt = TinyDecoders.Prompt(batch: 2, length: 7);
        var baseWeight = model.Transformer.state_dict()["h.0.attn.c_attn.weight"].detach().clone();
        model.Transformer.SetActiveAdapters();
        var plain = model.Forward(prompt).Logits;
        model.Transformer.SetActiveAdapters("a");
        var unmerged = model.Forward(prompt).Logits;
        Assert.True(TinyDecoders.MaxDiff(plain, unmerged) > 1e-4);
        model.Transformer.MergeAdapter("a");
        var merged = model.Forward(prompt).Logits;
        Assert.True(allclose(unmerged, merged, rtol: 1e-4, atol: 1e-5), $"max diff {TinyDecoders.MaxDiff(unmerged, merged)}");
        // attn_matrices q,v: the k third of c_attn is untouched by the merge.
        var mergedWeight = model.Transformer.state_dict()["h.0.attn.c_attn.weight"];
        Assert.True(TinyModels.Same(baseWeight.narrow(1, 32, 32), mergedWeight.narrow(1, 32, 32)));
        Assert.False(TinyModels.Same(baseWeight.narrow(1, 0, 32), mergedWeight.narrow(1, 0, 32)));
        TinyDecoders.AssertCacheMatchesRecompute(model, TinyDecoders.Prompt());
        model.Transformer.ResetAdapter();
        Assert.True(TinyModels.Same(baseWeight, model.Transformer.state_dict()["h.0.attn.c_attn.weight"]));
    }

    [Fact]
    public void Fused_LoRA_update_is_block_diagonal_per_enabled_matrix()
    {
        using var model = TinyDecoders.Gpt2();
        model.Transformer.AddAdapter("a", new LoRAConfig { R = 2, Alpha = 2, InitWeights = "bert", AttnMatrices = ["k"] }, setActive: true);
        var fused = model.Transformer.Interface.Layers[0].FusedQkv!;
        using var x = randn(3, 32);
        var output = fused.call(x);
        var state = model.Transformer.GetAdapterStateDict("a");
        var a = state["transformer.h.0.attn.c_attn.loras.a.lora_A"];
        var b = state["transformer.h.0.attn.c_attn.loras.a.lora_B"];
        var expected = addmm(fused.bias, x, fused.weight, 1, 1);
        var kPart = expected.narrow(1, 32, 32) + matmul(matmul(x, a.t()), b.t());
        expected = cat([expected.narrow(1, 0, 32), kPart, expected.narrow(1, 64, 32)], 1);
        Assert.True(allclose(expected, output, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void IA3_on_fused_c_attn_scales_the_enabled_thirds_and_merges()
    {
        using var model = TinyDecoders.Gpt2();
        model.Transformer.AddAdapter("s", "ia3[init_weights='bert']", setActive: true);
        using var prompt = TinyDecoders.Prompt(length: 4);
        var unmerged = model.Forward(prompt).Logits;
        model.Transformer.MergeAdapter("s");
        var merged = model.Forward(prompt).Logits;
        // IA³ merge leaves the c_attn bias unscaled (as Python), and GPT-2 initialises biases to zero, so both agree.
        Assert.True(allclose(unmerged, merged, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Bottleneck_adapters_sit_in_pythons_gpt2_wrappers_and_run_during_generation()
    {
        using var model = TinyDecoders.Gpt2();
        model.Transformer.AddAdapter("b", "double_seq_bn[init_weights='bert']", setActive: true);
        var keys = model.Transformer.GetAdapterStateDict("b").Keys.ToArray();
        Assert.Contains("transformer.h.0.attention_adapters.adapters.b.adapter_down.0.weight", keys);
        Assert.Contains("transformer.h.1.output_adapters.adapters.b.adapter_up.weight", keys);
        using var prompt = TinyDecoders.Prompt();
        var withAdapter = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 6, KeepLogits = true, StopTokenIds = [] });
        model.Transformer.SetActiveAdapters();
        var without = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 6, KeepLogits = true, StopTokenIds = [] });
        Assert.True(TinyDecoders.MaxDiff(withAdapter.StepLogits[0], without.StepLogits[0]) > 1e-4);
        model.Transformer.SetActiveAdapters("b");
        TinyDecoders.AssertCacheMatchesRecompute(model, prompt);
    }

    [Fact]
    public void Fused_LoRA_rejects_what_pythons_merged_linear_cannot_do()
    {
        using var model = TinyDecoders.Gpt2();
        Assert.Throws<AdapterConfigException>(() => model.Transformer.AddAdapter("d", new LoRAConfig { UseDora = true }));
        Assert.False(model.Transformer.HasAdapter("d"));
        model.Transformer.AddAdapter("x", new LoRAConfig());
        model.Transformer.AddAdapter("y", new LoRAConfig());
        model.Transformer.AddAdapter("s", "seq_bn");
        using var prompt = TinyDecoders.Prompt();
        // Python's LoRAMergedLinear runs a setup of one adapter only: any block with LoRA at c_attn fails.
        foreach (var setup in new[] { "Stack(x, y)", "Stack(s, x)", "BatchSplit(x, s, batch_sizes=[1, 0])" })
        {
            model.Transformer.SetActiveAdapters(CompositionParser.Parse(setup));
            Assert.Throws<AdapterCompositionException>(() => model.Forward(prompt));
        }
        // A gated LoRA runs (UniPELT) but cannot be merged.
        model.Transformer.AddAdapter("g", new LoRAConfig { UseGating = true }, setActive: true);
        model.Forward(prompt);
        Assert.Throws<InvalidOperationException>(() => model.Transformer.MergeAdapter("g"));
    }

    [Fact]
    public void LoRA_parameter_count_on_gpt2_small_matches_pythons_formula()
    {
        Core.TorchRuntime.Initialize();
        using var model = new Gpt2Model(new Gpt2Config(), device: new Device(TorchSharp.DeviceType.META));
        model.AddAdapter("lora", "lora");
        model.AddAdapter("all", "lora[r=4, intermediate_lora=True, output_lora=True, attn_matrices=['q','k','v']]");
        var rows = model.AdapterSummaryRows();
        // q and v: 12 layers × (A 16×768 + B 1536×8) = 12 · 4·8·768.
        Assert.Equal(294_912, rows[0].ParameterCount);
        // q,k,v r=4: 12 × (12·768 + 2304·4); c_fc 4·(768+3072); c_proj 4·(3072+768).
        Assert.Equal(12L * (12 * 768 + 2304 * 4 + 2 * 4 * (768 + 3072)), rows[1].ParameterCount);
        // GPT2Model (124,439,808 parameters in transformers).
        Assert.Equal(124_439_808, rows[^1].ParameterCount);
    }

    [Fact]
    public void Loss_shifts_labels_by_one()
    {
        using var model = TinyDecoders.Gpt2();
        using var ids = TinyDecoders.Prompt(batch: 2, length: 6);
        var labels = ids.clone();
        labels[0, 3] = tensor(-100L);
        var output = model.Forward(ids, labels: labels);
        var logits = output.Logits.narrow(1, 0, 5).reshape(-1, TinyDecoders.Vocab);
        var targets = labels.narrow(1, 1, 5).reshape(-1);
        var expected = TorchSharp.torch.nn.functional.cross_entropy(logits, targets, ignore_index: -100);
        Assert.Equal(expected.item<float>(), output.Loss!.item<float>(), 5);
    }

    [Fact]
    public void Saved_folder_reloads_in_stored_bf16_or_a_requested_dtype()
    {
        using var model = TinyDecoders.Gpt2();
        var dir = Directory.CreateTempSubdirectory("gpt2-").FullName;
        try
        {
            PretrainedDecoders.Save(model, dir, ScalarType.BFloat16);
            using (var file = TensorFiles.Open(Path.Combine(dir, "model.safetensors")))
            {
                Assert.All(file.Tensors, t => Assert.Equal(TensorDType.BF16, t.DType));
                Assert.Contains(file.Tensors, t => t.Name == "transformer.h.0.attn.c_attn.weight");
            }
            using var stored = (Gpt2LMHeadModel)PretrainedDecoders.Load(dir);
            Assert.Equal(ScalarType.BFloat16, stored.Transformer.TokenEmbeddings.dtype);
            using var asFloat = (Gpt2LMHeadModel)PretrainedDecoders.Load(dir, ScalarType.Float32);
            Assert.Equal(ScalarType.Float32, asFloat.Transformer.TokenEmbeddings.dtype);
            var original = model.state_dict()["transformer.h.1.mlp.c_fc.weight"].to(ScalarType.BFloat16).to(ScalarType.Float32);
            Assert.True(TinyModels.Same(original, asFloat.state_dict()["transformer.h.1.mlp.c_fc.weight"]));
            using var prompt = TinyDecoders.Prompt();
            Assert.Equal(ScalarType.BFloat16, stored.Forward(prompt).Logits.dtype);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
