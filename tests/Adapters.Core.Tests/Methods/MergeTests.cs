using Adapters.Core.Configuration;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

public sealed class MergeTests
{
    [Theory]
    [InlineData("lora[init_weights='bert']")]
    [InlineData("lora[init_weights='bert', r=4, alpha=16, attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]")]
    [InlineData("ia3[init_weights='bert']")]
    [InlineData("dora[init_weights='bert']")]
    [InlineData("vera[vera_b=0.5]")]
    public void Merged_output_equals_unmerged_and_reset_restores_the_weights_exactly(string config)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var baseWeights = TinyModels.CloneState(model);
        model.AddAdapter("a", config, setActive: true);
        var ids = TinyModels.InputIds();
        using var _ = no_grad();
        var unmerged = model.Forward(ids).LastHiddenState;
        var baseOnly = ForwardWithout(model, ids);
        Assert.False(allclose(unmerged, baseOnly, 1e-4, 1e-4));

        model.MergeAdapter("a");
        var merged = model.Forward(ids).LastHiddenState;
        model.ResetAdapter();

        Assert.True(allclose(merged, unmerged, 1e-5, 1e-5), $"max diff {(merged - unmerged).abs().max().item<float>()}");
        foreach (var (key, value) in baseWeights)
            Assert.True(TinyModels.Same(value, model.state_dict()[key]), key);
        Assert.True(allclose(model.Forward(ids).LastHiddenState, unmerged, 1e-6, 1e-6));
    }

    [Fact]
    public void Activating_adapters_resets_a_merge()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var before = model.state_dict()["encoder.layer.0.attention.self.query.weight"].clone();
        model.AddAdapter("a", "lora[init_weights='bert']", setActive: true);

        model.MergeAdapter("a");
        Assert.False(TinyModels.Same(before, model.state_dict()["encoder.layer.0.attention.self.query.weight"]));
        model.SetActiveAdapters("a");

        Assert.True(TinyModels.Same(before, model.state_dict()["encoder.layer.0.attention.self.query.weight"]));
    }

    [Fact]
    public void Bottleneck_and_gated_adapters_cannot_be_merged()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("bn", "seq_bn");
        model.AddAdapter("gated", "lora[use_gating=True]");

        Assert.Throws<InvalidOperationException>(() => model.MergeAdapter("bn"));
        Assert.Throws<InvalidOperationException>(() => model.MergeAdapter("gated"));
    }

    private static Tensor ForwardWithout(Core.Models.AdapterModel model, Tensor ids)
    {
        var active = model.Setup.Names.ToArray();
        model.SetActiveAdapters();
        var result = ((Core.Models.Bert.BertModel)model).Forward(ids).LastHiddenState;
        model.SetActiveAdapters(active);
        return result;
    }
}
