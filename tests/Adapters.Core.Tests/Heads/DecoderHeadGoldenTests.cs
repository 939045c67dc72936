using Adapters.Core.Heads;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using Adapters.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Heads;

/// <summary>
/// Heads on GPT-2 and Llama against Python's GPT2AdapterModel / LlamaAdapterModel: adapter+head folders saved by
/// Python (<c>save_adapter(with_head=True)</c>) load into bare decoders with no missing or unexpected keys and give
/// Python's logits (fixtures/python-goldens/heads, see its README).
/// </summary>
public sealed class DecoderHeadGoldenTests
{
    public static TheoryData<string, string, string> Cases() => new()
    {
        { "gpt2", "causal_lm_seq_bn", "adapter" },
        { "gpt2", "causal_lm_seq_bn", "adapter_st" },
        { "gpt2", "classification_seq_bn", "adapter" },
        { "gpt2", "classification_seq_bn", "adapter_st" },
        { "gpt2", "tagging_lora", "adapter" },
        { "gpt2", "tagging_lora", "adapter_st" },
        { "llama", "causal_lm_seq_bn", "adapter" },
        { "llama", "causal_lm_seq_bn", "adapter_st" },
        { "llama", "classification_seq_bn", "adapter" },
        { "llama", "classification_seq_bn", "adapter_st" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Python_saved_adapter_and_head_load_cleanly_and_give_pythons_logits(string model, string @case, string folder)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var golden = GoldenFile.Read("heads", model, @case);
        using var flex = new FlexHeadModel(PretrainedDecoders.LoadBaseModel(TestPaths.Fixture("python-goldens", "models", model)));

        var result = flex.LoadAdapter(TestPaths.Fixture("python-goldens", "heads", model, @case, folder), setActive: true);
        flex.eval();
        var logits = flex.Forward(golden.InputIds, golden.AttentionMask);

        Assert.Equal("task", result.Name);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        var diff = golden.MaxAbsDiff(logits, "outputs", "logits");
        Assert.True(diff <= 1e-5, $"max abs difference {diff} to Python's logits");
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void A_python_causal_lm_head_generates_with_the_cache_and_scores_as_python(string model)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var golden = GoldenFile.Read("heads", model, "causal_lm_seq_bn");
        using var flex = new FlexHeadModel(PretrainedDecoders.LoadBaseModel(TestPaths.Fixture("python-goldens", "models", model)));
        flex.LoadAdapter(TestPaths.Fixture("python-goldens", "heads", model, "causal_lm_seq_bn", "adapter_st"), setActive: true);
        flex.eval();

        var lm = flex.AsCausalLM("task");
        using var _ = no_grad();
        var logits = lm.Forward(golden.InputIds, attentionMask: golden.AttentionMask).Logits;

        Assert.True(golden.MaxAbsDiff(logits, "outputs", "logits") <= 1e-5);
        Assert.Equal(128, lm.VocabSize);
        TinyDecoders.AssertCacheMatchesRecompute(lm, golden.InputIds.narrow(0, 0, 1), steps: 5);
    }
}
