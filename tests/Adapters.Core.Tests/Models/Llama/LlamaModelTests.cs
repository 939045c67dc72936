using Adapters.Core.Configuration;
using Adapters.Core.Generation;
using Adapters.Core.Models.Llama;
using Adapters.Core.Serialization;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models.Llama;

public sealed class LlamaModelTests
{
    [Theory]
    [InlineData("llama")]
    [InlineData("mistral")]
    [InlineData("qwen2")]
    public void Forward_gives_vocab_logits_with_hf_names_and_gqa_shapes(string type)
    {
        using var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig(type));
        using var prompt = TinyDecoders.Prompt(batch: 2, length: 6);
        Assert.Equal(new long[] { 2, 6, TinyDecoders.Vocab }, model.Forward(prompt).Logits.shape);
        var state = model.state_dict();
        Assert.Equal(new long[] { 32, 32 }, state["model.layers.0.self_attn.q_proj.weight"].shape);
        // Two key/value heads of width 8 serve four query heads.
        Assert.Equal(new long[] { 16, 32 }, state["model.layers.0.self_attn.k_proj.weight"].shape);
        Assert.Equal(new long[] { 16, 32 }, state["model.layers.1.self_attn.v_proj.weight"].shape);
        Assert.Equal(new long[] { 48, 32 }, state["model.layers.0.mlp.gate_proj.weight"].shape);
        Assert.Equal(new long[] { 32, 48 }, state["model.layers.0.mlp.down_proj.weight"].shape);
        Assert.Contains("model.layers.0.input_layernorm.weight", state.Keys);
        Assert.Contains("model.norm.weight", state.Keys);
        Assert.Contains("lm_head.weight", state.Keys);
        Assert.Equal(type == "qwen2", state.ContainsKey("model.layers.0.self_attn.q_proj.bias"));
        Assert.False(state.ContainsKey("model.layers.0.self_attn.o_proj.bias"));
    }

    [Fact]
    public void Grouped_query_attention_equals_full_attention_with_repeated_key_value_heads()
    {
        var gqaConfig = TinyDecoders.LlamaConfig();
        using var gqa = TinyDecoders.Llama(gqaConfig);
        using var mha = TinyDecoders.Llama(gqaConfig with { NumKeyValueHeads = 4 });
        using (no_grad())
        {
            foreach (var (key, value) in gqa.state_dict())
            {
                var target = mha.state_dict()[key];
                if (key.Contains("k_proj") || key.Contains("v_proj"))
                {
                    // Query head h reads key/value head h / 2: repeat each kv head's 8 rows twice.
                    target.copy_(value.reshape(2, 1, 8, 32).expand(2, 2, 8, 32).reshape(32, 32));
                }
                else
                {
                    target.copy_(value);
                }
            }
        }
        using var prompt = TinyDecoders.Prompt(batch: 2, length: 7);
        Assert.True(allclose(gqa.Forward(prompt).Logits, mha.Forward(prompt).Logits, rtol: 1e-4, atol: 1e-5));
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("mistral")]
    [InlineData("qwen2")]
    public void Cached_greedy_generation_equals_full_recompute(string type)
    {
        using var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig(type));
        TinyDecoders.AssertCacheMatchesRecompute(model, TinyDecoders.Prompt(batch: 2), steps: 9);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("linear")]
    [InlineData("llama3")]
    public void Rotary_positions_continue_across_cache_chunks(string? ropeType)
    {
        var scaling = ropeType switch
        {
            "linear" => new RopeScaling("linear", 2.0),
            "llama3" => new RopeScaling("llama3", 8.0, 1.0, 4.0, 16),
            _ => null,
        };
        using var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig() with { RopeScaling = scaling, RopeTheta = 500000 });
        using var ids = TinyDecoders.Prompt(length: 9);
        var full = model.Forward(ids).Logits;
        using var cache = new KeyValueCache(model.LayerCount);
        var first = model.Forward(ids.narrow(1, 0, 4), cache).Logits;
        var second = model.Forward(ids.narrow(1, 4, 3), cache).Logits;
        var third = model.Forward(ids.narrow(1, 7, 2), cache).Logits;
        Assert.Equal(9, cache.Length);
        Assert.True(allclose(full, cat([first, second, third], 1), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Linear_rope_scaling_divides_positions_by_the_factor()
    {
        Core.TorchRuntime.Initialize();
        using var plain = new RotaryEmbedding(TinyDecoders.LlamaConfig());
        using var linear = new RotaryEmbedding(TinyDecoders.LlamaConfig() with { RopeScaling = new RopeScaling("linear", 2.0) });
        using var positions = tensor(new long[] { 0, 2, 4, 10 }).unsqueeze(0);
        using var halved = tensor(new long[] { 0, 1, 2, 5 }).unsqueeze(0);
        var (cosLinear, sinLinear) = linear.Compute(positions, ScalarType.Float32);
        var (cosPlain, sinPlain) = plain.Compute(halved, ScalarType.Float32);
        Assert.True(TinyModels.Same(cosLinear, cosPlain));
        Assert.True(TinyModels.Same(sinLinear, sinPlain));
    }

    [Fact]
    public void Llama3_rope_keeps_high_frequencies_and_divides_low_ones_by_the_factor()
    {
        Core.TorchRuntime.Initialize();
        var config = TinyDecoders.LlamaConfig() with { HeadDimOverride = 64, NumAttentionHeads = 4, HiddenSize = 256, RopeTheta = 500000 };
        using var plain = new RotaryEmbedding(config);
        using var llama3 = new RotaryEmbedding(config with { RopeScaling = new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192) });
        var before = plain.InverseFrequency.data<float>().ToArray();
        var after = llama3.InverseFrequency.data<float>().ToArray();
        for (var i = 0; i < before.Length; i++)
        {
            var wavelength = 2 * Math.PI / before[i];
            if (wavelength < 8192 / 4.0) Assert.Equal(before[i], after[i]);
            else if (wavelength > 8192 / 1.0) Assert.Equal(before[i] / 8, after[i], 1e-9);
            else Assert.InRange(after[i], before[i] / 8 * 0.999, before[i] * 1.001);
        }
        Assert.Contains(after.Zip(before), p => p.First != p.Second);
    }

    [Fact]
    public void Dynamic_rope_matches_plain_rope_within_the_trained_length_only()
    {
        Core.TorchRuntime.Initialize();
        var config = TinyDecoders.LlamaConfig() with { MaxPositionEmbeddings = 8 };
        using var plain = new RotaryEmbedding(config);
        using var dynamic = new RotaryEmbedding(config with { RopeScaling = new RopeScaling("dynamic", 2.0) });
        using var inside = arange(0, 8, ScalarType.Int64).unsqueeze(0);
        using var beyond = arange(0, 12, ScalarType.Int64).unsqueeze(0);
        Assert.True(TinyModels.Same(plain.Compute(inside, ScalarType.Float32).Cos, dynamic.Compute(inside, ScalarType.Float32).Cos));
        Assert.False(allclose(plain.Compute(beyond, ScalarType.Float32).Cos, dynamic.Compute(beyond, ScalarType.Float32).Cos));
    }

    [Fact]
    public void Sliding_window_mask_hides_keys_more_than_window_positions_back()
    {
        Core.TorchRuntime.Initialize();
        using var mask = AttentionMasks.Causal(5, 0, null, 2, 0, ScalarType.Float32, CPU)!;
        var allowed = (mask == 0).squeeze().data<bool>().ToArray();
        for (var q = 0; q < 5; q++)
            for (var k = 0; k < 5; k++)
                Assert.Equal(k <= q && q - k < 2, allowed[q * 5 + k]);
        // With one layer, the last position cannot see a token the window left behind.
        var config = TinyDecoders.LlamaConfig("mistral") with { NumHiddenLayers = 1, SlidingWindow = 2 };
        using var model = TinyDecoders.Llama(config);
        using var a = tensor(new long[] { 5, 6, 7, 8 }).unsqueeze(0);
        using var b = tensor(new long[] { 9, 6, 7, 8 }).unsqueeze(0);
        Assert.True(allclose(model.Forward(a).Logits.select(1, 3), model.Forward(b).Logits.select(1, 3), rtol: 1e-5, atol: 1e-6));
        Assert.False(allclose(model.Forward(a).Logits.select(1, 1), model.Forward(b).Logits.select(1, 1)));
        using var full = TinyDecoders.Llama(config with { ModelType = "llama", SlidingWindow = null });
        Assert.False(allclose(full.Forward(a).Logits.select(1, 3), full.Forward(b).Logits.select(1, 3)));
    }

    [Fact]
    public void Tied_embeddings_have_no_lm_head_and_project_with_embed_tokens()
    {
        using var tied = TinyDecoders.Llama(TinyDecoders.LlamaConfig() with { TieWordEmbeddings = true });
        Assert.DoesNotContain("lm_head.weight", tied.state_dict().Keys);
        using var prompt = TinyDecoders.Prompt();
        var output = tied.Forward(prompt);
        Assert.True(allclose(matmul(output.HiddenStates, tied.Model.EmbedTokens.t()), output.Logits, rtol: 1e-5, atol: 1e-6));
        using var untied = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        Assert.Equal(new long[] { TinyDecoders.Vocab, 32 }, untied.state_dict()["lm_head.weight"].shape);
        Assert.False(TinyModels.Same(untied.HeadWeight, untied.Model.EmbedTokens));
    }

    [Theory]
    [InlineData("llama", "down_proj", "up_proj")]
    [InlineData("qwen2", "up_proj", "down_proj")]
    public void LoRA_keys_follow_pythons_locations_and_merged_equals_unmerged(string type, string intermediate, string output)
    {
        using var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig(type));
        model.Model.AddAdapter("a", "lora[r=4, alpha=8, init_weights='bert', attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]", setActive: true);
        var keys = model.Model.GetAdapterStateDict("a");
        Assert.Equal(new long[] { 16, 4 }, keys["model.layers.0.self_attn.k_proj.loras.a.lora_B"].shape);
        Assert.True(keys.ContainsKey($"model.layers.1.mlp.{intermediate}.loras.a.lora_A"));
        Assert.True(keys.ContainsKey($"model.layers.1.mlp.{output}.loras.a.lora_A"));
        Assert.Equal(2 * 5 * 2, keys.Count);
        using var prompt = TinyDecoders.Prompt(batch: 2, length: 6);
        var unmerged = model.Forward(prompt).Logits;
        model.Model.MergeAdapter("a");
        var merged = model.Forward(prompt).Logits;
        Assert.True(allclose(unmerged, merged, rtol: 1e-4, atol: 1e-5), $"max diff {TinyDecoders.MaxDiff(unmerged, merged)}");
        TinyDecoders.AssertCacheMatchesRecompute(model, TinyDecoders.Prompt());
    }

    [Fact]
    public void Llama_3_8b_lora_counts_match_the_python_notebooks()
    {
        Core.TorchRuntime.Initialize();
        var config = new LlamaConfig
        {
            VocabSize = 128256, HiddenSize = 4096, IntermediateSize = 14336, NumHiddenLayers = 32, NumAttentionHeads = 32,
            NumKeyValueHeads = 8, MaxPositionEmbeddings = 8192, RopeTheta = 500000,
        };
        using var model = new LlamaModel(config, device: new Device(TorchSharp.DeviceType.META));
        model.AddAdapter("default", "lora");
        model.AddAdapter("qlora", "lora[r=64, alpha=16, attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]");
        var rows = model.AdapterSummaryRows();
        Assert.Equal(3_407_872, rows[0].ParameterCount);
        Assert.Equal(113_246_208, rows[1].ParameterCount);
        Assert.Equal(7_504_924_672, rows[^1].ParameterCount);
    }

    [Fact]
    public void Attention_prefix_is_attended_without_moving_positions_and_survives_the_cache()
    {
        using var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        using var prompt = TinyDecoders.Prompt();
        var without = model.Forward(prompt).Logits;
        manual_seed(5);
        model.Model.AttentionPrefix = new FixedPrefix(randn([2, 1, 2, 3, 8]), randn([2, 1, 2, 3, 8]));
        var with = model.Forward(prompt).Logits;
        Assert.True(TinyDecoders.MaxDiff(without, with) > 1e-4);
        TinyDecoders.AssertCacheMatchesRecompute(model, prompt);
    }

    [Fact]
    public void Sampling_is_reproducible_with_a_seed_and_top_k_1_is_greedy()
    {
        using var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        using var prompt = TinyDecoders.Prompt();
        var sampled = new GenerationOptions { MaxNewTokens = 8, DoSample = true, Temperature = 1.5, TopP = 0.9, Seed = 42, StopTokenIds = [] };
        var first = TextGenerator.Generate(model, prompt, sampled).NewTokens[0];
        var second = TextGenerator.Generate(model, prompt, sampled).NewTokens[0];
        Assert.Equal(first, second);
        var greedy = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 8, StopTokenIds = [] }).NewTokens[0];
        var topOne = TextGenerator.Generate(model, prompt, sampled with { TopK = 1, TopP = 1.0 }).NewTokens[0];
        Assert.Equal(greedy, topOne);
    }

    [Fact]
    public void Generation_stops_at_a_stop_token_and_repetition_penalty_changes_scores()
    {
        using var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        using var prompt = TinyDecoders.Prompt();
        var free = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 6, StopTokenIds = [] });
        var stopAt = free.NewTokens[0][2];
        var stopped = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 6, StopTokenIds = [stopAt] });
        Assert.Equal(FinishReason.StopToken, stopped.FinishReasons[0]);
        Assert.Equal(stopAt, stopped.NewTokens[0][^1]);
        Assert.True(stopped.NewTokens[0].Count <= 3);

        using var logits = tensor(new float[] { 2, -2, 1, 4 }).unsqueeze(0);
        using var seen = tensor(new long[] { 0, 1 }).unsqueeze(0);
        var penalized = LogitsProcessing.RepetitionPenalty(logits, seen, 2.0).data<float>().ToArray();
        Assert.Equal(new float[] { 1, -4, 1, 4 }, penalized);
        var nucleus = LogitsProcessing.TopP(tensor(new float[] { 0, 0, 10, 9 }).unsqueeze(0), 0.5).data<float>().ToArray();
        Assert.True(float.IsNegativeInfinity(nucleus[0]) && float.IsNegativeInfinity(nucleus[3]) && nucleus[2] == 10);
    }

    [Fact]
    public void Saved_bf16_folder_reloads_as_stored_sharded_or_converted()
    {
        using var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig("qwen2"));
        var dir = Directory.CreateTempSubdirectory("llama-").FullName;
        try
        {
            PretrainedDecoders.Save(model, dir, ScalarType.BFloat16);
            Assert.Equal("qwen2", LlamaConfig.Read(Path.Combine(dir, "config.json")).ModelType);
            using var stored = (LlamaForCausalLM)PretrainedDecoders.Load(dir);
            Assert.Equal(ScalarType.BFloat16, stored.HeadWeight.dtype);
            using var prompt = TinyDecoders.Prompt();
            Assert.Equal(ScalarType.BFloat16, stored.Forward(prompt).Logits.dtype);

            // The same weights as a sharded checkpoint, converted to float32 on load.
            var sharded = Directory.CreateDirectory(Path.Combine(dir, "sharded")).FullName;
            File.Copy(Path.Combine(dir, "config.json"), Path.Combine(sharded, "config.json"));
            using (var file = TensorFiles.Open(Path.Combine(dir, "model.safetensors")))
                SafeTensorsIndex.SaveSharded(sharded, file.AsPayloads().ToList(), 20_000, null);
            Assert.True(File.Exists(Path.Combine(sharded, "model.safetensors.index.json")));
            using var converted = (LlamaForCausalLM)PretrainedDecoders.Load(sharded, ScalarType.Float32);
            Assert.Equal(ScalarType.Float32, converted.HeadWeight.dtype);
            foreach (var (key, value) in model.state_dict())
                Assert.True(TinyModels.Same(value.to(ScalarType.BFloat16).to(ScalarType.Float32), converted.state_dict()[key]), key);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Config_parsing_reads_hf_fields_and_rejects_unsupported_rope()
    {
        var config = LlamaConfig.Parse("""
            {"model_type": "llama", "hidden_size": 2048, "num_attention_heads": 32, "num_key_value_heads": 4, "eos_token_id": [128001, 128009],
             "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
             "tie_word_embeddings": true, "torch_dtype": "bfloat16"}
            """);
        Assert.Equal(new long[] { 128001, 128009 }, config.EosTokenIds);
        Assert.Equal(64, config.HeadDim);
        Assert.Equal(4, config.KeyValueHeads);
        Assert.Equal(new RopeScaling("llama3", 32.0, 1.0, 4.0, 8192), config.RopeScaling);
        Assert.True(config.TieWordEmbeddings);
        var error = Assert.Throws<AdapterConfigException>(() => LlamaConfig.Parse("""{"model_type": "llama", "rope_scaling": {"rope_type": "yarn", "factor": 4.0}}""", "m/config.json"));
        Assert.Contains("m/config.json", error.Message);
        Assert.Contains("yarn", error.Message);
        var mistral = LlamaConfig.Parse("""{"model_type": "mistral", "sliding_window": null}""");
        Assert.Null(mistral.SlidingWindowFor(0));
        Assert.Equal(4096, LlamaConfig.Parse("""{"model_type": "mistral"}""").SlidingWindowFor(3));
    }

    private sealed class FixedPrefix(Tensor keys, Tensor values) : IAttentionPrefix
    {
        public long Length => keys.shape[3];

        public (Tensor Key, Tensor Value)? ForLayer(int layerIndex, long batchSize) =>
            (keys[layerIndex].expand(batchSize, -1, -1, -1), values[layerIndex].expand(batchSize, -1, -1, -1));
    }
}
