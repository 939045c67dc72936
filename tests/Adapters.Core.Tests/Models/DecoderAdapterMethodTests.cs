using Adapters.Core.Generation;
using Adapters.Core.Models;
using Adapters.Core.Serialization;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

/// <summary>Prefix tuning, prompt tuning, bottleneck adapters and LoRA on GPT-2 and Llama-family decoders, in forward and generation.</summary>
public sealed class DecoderAdapterMethodTests
{
    private const string Prefix = "prefix_tuning[prefix_length=5, bottleneck_size=16]";
    private const string Prompt = "prompt_tuning[prompt_length=4]";

    public static TheoryData<string, string> ModelsAndMethods()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in new[] { "gpt2", "llama", "mistral", "qwen2" })
        {
            foreach (var method in new[] { "seq_bn", "par_bn", "lora[r=4, alpha=8, attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]", "ia3", Prefix, "prefix_tuning_flat[prefix_length=3]", Prompt })
                data.Add(model, method);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ModelsAndMethods))]
    public void Cached_generation_equals_full_recompute_with_each_method_active(string modelType, string method)
    {
        using var scope = NewDisposeScope();
        var model = Create(modelType);
        using var prompt = TinyDecoders.Prompt(batch: 2, length: 6);
        var plain = model.Forward(prompt).Logits;
        model.BaseModel.AddAdapter("a", method, setActive: true);
        Perturb(model.BaseModel, "a");

        var adapted = model.Forward(prompt).Logits;

        Assert.True(TinyDecoders.MaxDiff(plain, adapted.narrow(1, adapted.shape[1] - 6, 6)) > 1e-4, "the adapter must change the logits");
        TinyDecoders.AssertCacheMatchesRecompute(model, prompt, steps: 6);
        // Left padding: the second prompt has two pad tokens in front.
        using var mask = tensor(new long[,] { { 1, 1, 1, 1, 1, 1 }, { 0, 0, 1, 1, 1, 1 } });
        TinyDecoders.AssertCacheMatchesRecompute(model, prompt, steps: 6, mask);
        ((TorchSharp.torch.nn.Module)model).Dispose();
    }

    [Theory]
    [InlineData("gpt2", "transformer.h.1.attn.prefix_tuning.pool.prefix_tunings.p.self_prefix.wte.weight", 128)]
    [InlineData("llama", "model.layers.1.self_attn.prefix_tuning.pool.prefix_tunings.p.self_prefix.wte.weight", 128)]
    [InlineData("qwen2", "model.layers.1.self_attn.prefix_tuning.pool.prefix_tunings.p.self_prefix.wte.weight", 128)]
    public void Prefix_tuning_keys_and_counts_follow_pythons_formula(string modelType, string layerKey, long controlWidth)
    {
        using var scope = NewDisposeScope();
        var model = Create(modelType);
        model.BaseModel.AddAdapter("p", Prefix);

        var state = model.BaseModel.GetAdapterStateDict("p");
        var prefix = model.BaseModel.Interface.BaseModelPrefix;

        Assert.Contains(layerKey, state.Keys);
        // n_layers·2·n_heads·head_dim with n_heads = num_attention_heads (Python prefixes after repeat_kv): 2·2·4·8 for GPT-2 and for tiny Llama (4 heads, 2 kv heads).
        Assert.Equal([controlWidth, 16L], state[$"{prefix}.prefix_tuning.prefix_tunings.p.self_prefix.control_trans.2.weight"].shape);
        // P·H + (H·b + b) + (b·n + n)
        Assert.Equal(5 * 32 + (32 * 16 + 16) + (16 * controlWidth + controlWidth), model.BaseModel.AdapterSummaryRows()[0].ParameterCount);
        ((TorchSharp.torch.nn.Module)model).Dispose();
    }

    [Fact]
    public void Llama_prefix_keys_are_not_rotated_and_are_laid_out_per_attention_head_after_repeat_kv()
    {
        using var scope = NewDisposeScope();
        var model = (Adapters.Core.Models.Llama.LlamaForCausalLM)Create("llama");
        model.Model.AddAdapter("p", "prefix_tuning_flat[prefix_length=3]", setActive: true);
        Perturb(model.Model, "p");
        // Python's layout [P][layer][k/v][head][dim] with one head per attention head (4), not per kv head (2).
        var flat = model.Model.GetAdapterStateDict("p")["model.prefix_tuning.prefix_tunings.p.self_prefix.control_trans"];
        var heads = flat.view(3, 4, 4, 8);
        // Equal prefixes on the two attention heads that share a kv head make the prefix equal to one put in front of
        // the kv heads before repeat_kv, which the unrotated IAttentionPrefix extension point does.
        using (no_grad())
        {
            heads.select(2, 1).copy_(heads.select(2, 0));
            heads.select(2, 3).copy_(heads.select(2, 2));
        }
        using var prompt = TinyDecoders.Prompt(batch: 2, length: 5);
        var withAdapter = model.Forward(prompt).Logits;
        var states = heads.index_select(2, tensor(new long[] { 0, 2 })).unsqueeze(0).permute(2, 0, 3, 1, 4);
        model.Model.SetActiveAdapters();
        model.Model.AttentionPrefix = new StatesPrefix(states);

        var withPrefix = model.Forward(prompt).Logits;

        Assert.True(TinyDecoders.MaxDiff(withAdapter, withPrefix) < 1e-5);
        // Different prefixes on heads that share a kv head give a different result: the prefix is per attention head.
        using (no_grad()) heads.select(2, 1).add_(1.0);
        model.Model.AttentionPrefix = null;
        model.Model.SetActiveAdapters("p");
        Assert.True(TinyDecoders.MaxDiff(withAdapter, model.Forward(prompt).Logits) > 1e-4);
        model.Dispose();
    }

    [Theory]
    [InlineData("gpt2", Prefix)]
    [InlineData("llama", Prefix)]
    [InlineData("gpt2", Prompt)]
    [InlineData("mistral", Prompt)]
    [InlineData("qwen2", "prefix_tuning_flat[prefix_length=3]")]
    public void Saved_prefix_and_prompt_adapters_reload_with_identical_generation(string modelType, string method)
    {
        using var scope = NewDisposeScope();
        var source = Create(modelType);
        source.BaseModel.AddAdapter("m", method, setActive: true);
        Perturb(source.BaseModel, "m");
        var folder = Directory.CreateTempSubdirectory("decoder-methods-").FullName;
        try
        {
            source.BaseModel.SaveAdapter(folder, "m");
            var target = Create(modelType);
            var result = target.BaseModel.LoadAdapter(folder, setActive: true);
            Assert.Empty(result.UnexpectedKeys);
            using var prompt = TinyDecoders.Prompt(batch: 2, length: 4);
            var options = new GenerationOptions { MaxNewTokens = 5, KeepLogits = true, StopTokenIds = [] };

            var expected = TextGenerator.Generate(source, prompt, options);
            var actual = TextGenerator.Generate(target, prompt, options);

            Assert.Equal(expected.NewTokens, actual.NewTokens);
            for (var i = 0; i < 5; i++) Assert.True(TinyModels.Same(expected.StepLogits[i], actual.StepLogits[i]), $"step {i}");
            ((TorchSharp.torch.nn.Module)target).Dispose();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            ((TorchSharp.torch.nn.Module)source).Dispose();
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Prompt_tuning_lengthens_the_sequence_and_ignores_prompt_positions_in_the_loss(string modelType)
    {
        using var scope = NewDisposeScope();
        var model = Create(modelType);
        model.BaseModel.AddAdapter("p", Prompt, setActive: true);
        using var ids = TinyDecoders.Prompt(batch: 2, length: 6);

        var output = model.Forward(ids, labels: ids);

        Assert.Equal([2L, 10, TinyDecoders.Vocab], output.Logits.shape);
        // Labels get -100 for the four prompt positions, then shift by one: the last prompt position predicts the first token.
        var logits = output.Logits.narrow(1, 3, 6).reshape(-1, TinyDecoders.Vocab);
        var expected = nn.functional.cross_entropy(logits, ids.reshape(-1));
        Assert.Equal(expected.item<float>(), output.Loss!.item<float>(), 5);
        ((TorchSharp.torch.nn.Module)model).Dispose();
    }

    [Fact]
    public void Prompt_tuning_attends_the_prompt_and_keeps_padding_masked()
    {
        using var scope = NewDisposeScope();
        var model = Create("llama");
        model.BaseModel.AddAdapter("p", Prompt, setActive: true);
        using var ids = TinyDecoders.Prompt(batch: 1, length: 5);
        var padded = cat([zeros([1, 2], ScalarType.Int64), ids], 1);
        using var mask = tensor(new long[,] { { 0, 0, 1, 1, 1, 1, 1 } });

        var plain = model.Forward(ids).Logits;
        var leftPadded = model.Forward(padded, attentionMask: mask).Logits;

        // Positions count real tokens only, so left padding does not change the real tokens' logits.
        Assert.True(TinyDecoders.MaxDiff(plain.narrow(1, 4, 5), leftPadded.narrow(1, 6, 5)) < 1e-5);
        ((TorchSharp.torch.nn.Module)model).Dispose();
    }

    internal static ICausalLM Create(string modelType, long seed = 3) => modelType == "gpt2"
        ? TinyDecoders.Gpt2(seed)
        : TinyDecoders.Llama(TinyDecoders.LlamaConfig(modelType), seed);

    /// <summary>Moves every parameter of adapter <paramref name="name"/> away from its init (zero-init adapters are no-ops).</summary>
    internal static void Perturb(AdapterModel model, string name, long seed = 17)
    {
        manual_seed(seed);
        using var _ = no_grad();
        foreach (var (_, parameter) in model.AdapterParameters(name)) parameter.add_(randn_like(parameter) * 0.2);
    }

    private sealed class StatesPrefix(Tensor states) : IAttentionPrefix
    {
        public long Length => states.shape[3];

        public (Tensor Key, Tensor Value)? ForLayer(int layerIndex, long batchSize) =>
            (states[2 * layerIndex].expand(batchSize, -1, -1, -1), states[2 * layerIndex + 1].expand(batchSize, -1, -1, -1));
    }
}
