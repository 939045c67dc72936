using Adapters.Core.Generation;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

/// <summary>Small random decoders and helpers shared by the GPT-2 and Llama tests.</summary>
internal static class TinyDecoders
{
    public const int Vocab = 61;

    public static Gpt2Config Gpt2Config() => new()
    {
        VocabSize = Vocab,
        NPositions = 64,
        NEmbd = 32,
        NLayer = 2,
        NHead = 4,
        EosTokenId = 60,
        BosTokenId = 60,
    };

    public static LlamaConfig LlamaConfig(string type = "llama") => new()
    {
        ModelType = type,
        VocabSize = Vocab,
        HiddenSize = 32,
        IntermediateSize = 48,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        MaxPositionEmbeddings = 64,
        RmsNormEps = 1e-6,
        EosTokenIds = [60],
        SlidingWindow = type == "llama" ? null : 3,
        UseSlidingWindow = type == "qwen2",
        MaxWindowLayers = 1,
    };

    public static Gpt2LMHeadModel Gpt2(long seed = 3)
    {
        Core.TorchRuntime.Initialize();
        manual_seed(seed);
        var model = new Gpt2LMHeadModel(Gpt2Config());
        model.eval();
        return model;
    }

    public static LlamaForCausalLM Llama(LlamaConfig config, long seed = 3)
    {
        Core.TorchRuntime.Initialize();
        manual_seed(seed);
        var model = new LlamaForCausalLM(config);
        model.eval();
        return model;
    }

    public static Tensor Prompt(long seed = 11, int batch = 1, int length = 5)
    {
        var generator = new Generator((ulong)seed);
        return randint(1, Vocab - 1, [batch, length], ScalarType.Int64, generator: generator);
    }

    /// <summary>Greedy generation with and without the cache; asserts equal tokens and near-equal logits at every step.</summary>
    public static void AssertCacheMatchesRecompute(ICausalLM model, Tensor prompt, int steps = 8, Tensor? mask = null)
    {
        var cached = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = steps, KeepLogits = true, StopTokenIds = [] }, mask);
        var full = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = steps, KeepLogits = true, StopTokenIds = [], UseCache = false }, mask);
        Assert.Equal(full.NewTokens, cached.NewTokens);
        Assert.Equal(steps, cached.StepLogits.Count);
        for (var i = 0; i < steps; i++)
            Assert.True(allclose(full.StepLogits[i], cached.StepLogits[i], rtol: 1e-4, atol: 1e-5), $"step {i} logits differ by {(full.StepLogits[i] - cached.StepLogits[i]).abs().max().item<float>()}");
    }

    public static float MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();
}
