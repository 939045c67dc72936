using Adapters.Core.Composition;
using Adapters.Core.Heads;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Composition;

public sealed class AveragingTests
{
    private static void Close(Tensor expected, Tensor actual, double tolerance = 1e-6) =>
        Assert.True(expected.shape.SequenceEqual(actual.shape) && allclose(expected, actual, tolerance, tolerance),
            $"shapes [{string.Join(",", expected.shape)}] vs [{string.Join(",", actual.shape)}]");

    [Theory]
    [InlineData("seq_bn")]
    [InlineData("lora[init_weights='bert']")]
    [InlineData("compacter++[reduction_factor=4]")]
    [InlineData("vera[vera_b=0.5]")]
    public void Linear_averaging_gives_every_tensor_the_weighted_sum(string config)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("a", config);
        model.AddAdapter("b", config);
        using (no_grad()) foreach (var (_, p) in model.AdapterParameters("b")) p.add_(randn(p.shape) * 0.1);

        model.AverageAdapter("avg", ["a", "b"], [3.0, 1.0]);

        var a = model.GetAdapterStateDict("a");
        var b = model.GetAdapterStateDict("b");
        var avg = model.GetAdapterStateDict("avg");
        Assert.Equal(a.Count, avg.Count);
        foreach (var (key, value) in avg)
        {
            var inA = key.Replace(".avg.", ".a.", StringComparison.Ordinal);
            var inB = key.Replace(".avg.", ".b.", StringComparison.Ordinal);
            Close(0.75 * a[inA] + 0.25 * b[inB], value);
        }
    }

    [Fact]
    public void Negate_b_uses_absolute_weights_on_a_and_signed_weights_on_b()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("a", "lora[init_weights='bert']");
        model.AddAdapter("b", "lora[init_weights='bert']");

        model.AverageAdapter("neg", ["a", "b"], [1.0, -0.5], AdapterCombineStrategy.LoRALinearOnlyNegateB, normalizeWeights: false);

        var q = (AdaptableLinear)model.Interface.Layers[0].Query!;
        Tensor Part(string n, string k) => q.Loras.Get<LoRALayer>(n)!.state_dict()[k];
        Close(Part("a", "lora_A") + 0.5 * Part("b", "lora_A"), Part("neg", "lora_A"));
        Close(Part("a", "lora_B") - 0.5 * Part("b", "lora_B"), Part("neg", "lora_B"));
    }

    [Fact]
    public void Svd_averaging_reproduces_the_weighted_delta_at_full_rank_and_has_rank_at_most_k()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("a", "lora[init_weights='bert', r=4, alpha=8]");
        model.AddAdapter("b", "lora[init_weights='bert', r=4, alpha=8, dropout=0.1]");
        var q = (AdaptableLinear)model.Interface.Layers[1].Query!;
        Tensor Delta(string n) => matmul(q.Loras.Get<LoRALayer>(n)!.state_dict()["lora_B"], q.Loras.Get<LoRALayer>(n)!.state_dict()["lora_A"]);
        var weighted = 0.25 * Delta("a") + 0.75 * Delta("b");

        model.AverageAdapter("full", ["a", "b"], [1.0, 3.0], AdapterCombineStrategy.LoRADeltaWSvd, svdRank: 8);
        model.AverageAdapter("low", ["a", "b"], [1.0, 3.0], AdapterCombineStrategy.LoRADeltaWSvd, svdRank: 2);

        Close(weighted, Delta("full"), 1e-5);
        Assert.Equal(8, ((Core.Configuration.LoRAConfig)model.GetAdapterConfig("full")).R);
        // alpha stays 8, so the effective scale is alpha/k: the documented change of scale after SVD merging.
        Assert.Equal(8, ((Core.Configuration.LoRAConfig)model.GetAdapterConfig("low")).Alpha);
        Assert.Equal([2L, 32], q.Loras.Get<LoRALayer>("low")!.state_dict()["lora_A"].shape);
        Assert.True(linalg.matrix_rank(Delta("low")).item<long>() <= 2);
        Assert.True(linalg.matrix_rank(weighted).item<long>() > 2);
    }

    [Fact]
    public void Averaging_refuses_different_configs_and_unsuitable_strategies()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("a", "lora");
        model.AddAdapter("r4", "lora[r=4]");
        model.AddAdapter("bn", "seq_bn");
        model.AddAdapter("ia3", "ia3");
        model.AddAdapter("ia3b", "ia3[init_weights='bert']");

        Assert.Throws<ArgumentException>(() => model.AverageAdapter("x", ["a", "r4"]));
        Assert.Throws<ArgumentException>(() => model.AverageAdapter("x", ["bn", "bn"], combineStrategy: AdapterCombineStrategy.LoRALinearOnlyNegateB));
        Assert.Throws<ArgumentException>(() => model.AverageAdapter("x", ["a", "a"], combineStrategy: AdapterCombineStrategy.LoRADeltaWSvd));
        Assert.Throws<ArgumentException>(() => model.AverageAdapter("x", ["ia3", "ia3b"], combineStrategy: AdapterCombineStrategy.LoRADeltaWSvd, svdRank: 1));
        Assert.False(model.HasAdapter("x"));

        // init_weights and dropout are ignored by the comparison, as in Python's config hash.
        model.AverageAdapter("ok", ["ia3", "ia3b"], setActive: true);
        Assert.Equal(new Stack("ok"), model.ActiveAdapters);
    }

    [Fact]
    public void Average_head_averages_every_tensor_of_same_config_heads()
    {
        using var scope = NewDisposeScope();
        using var model = new FlexHeadModel(TinyModels.Bert());
        model.AddClassificationHead("a", numLabels: 3);
        model.AddClassificationHead("b", numLabels: 3, dropoutProb: 0.3);
        model.AddClassificationHead("c", numLabels: 2);

        model.AverageHead("avg", ["a", "b"], [1.0, 1.0], setActive: true);

        var a = model.GetHeadStateDict("a");
        var b = model.GetHeadStateDict("b");
        foreach (var (key, value) in model.GetHeadStateDict("avg"))
            Close(0.5 * a[key.Replace("heads.avg.", "heads.a.", StringComparison.Ordinal)] + 0.5 * b[key.Replace("heads.avg.", "heads.b.", StringComparison.Ordinal)], value);
        Assert.Equal("avg", model.ActiveHead);
        Assert.Throws<ArgumentException>(() => model.AverageHead("bad", ["a", "c"]));
    }
}
