using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

public sealed class ZeroInitTests
{
    [Theory]
    [InlineData("lora", 0.0)]
    [InlineData("lora[attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]", 0.0)]
    [InlineData("ia3", 0.0)]
    [InlineData("vera", 0.0)]
    [InlineData("par_bn", 0.0)]
    [InlineData("dora", 1e-6)]
    [InlineData("seq_bn[init_weights='mam_adapter']", 0.0)]
    [InlineData("double_seq_bn[init_weights='mam_adapter']", 0.0)]
    public void Adapters_that_python_initialises_as_identity_leave_the_output_unchanged(string config, double tolerance)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var ids = TinyModels.InputIds();
        using var _ = no_grad();
        var before = model.Forward(ids).LastHiddenState;

        model.AddAdapter("a", config, setActive: true);
        var after = model.Forward(ids).LastHiddenState;

        if (tolerance == 0.0) Assert.True(TinyModels.Same(before, after), $"max diff {(before - after).abs().max().item<float>()}");
        else Assert.True(allclose(before, after, tolerance, tolerance));
    }

    [Theory]
    [InlineData("seq_bn")]
    [InlineData("double_seq_bn")]
    [InlineData("seq_bn_inv")]
    public void Bert_initialised_bottlenecks_are_not_identities_as_in_python(string config)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var ids = TinyModels.InputIds();
        using var _ = no_grad();
        var before = model.Forward(ids).LastHiddenState;

        model.AddAdapter("a", config, setActive: true);

        Assert.False(allclose(before, model.Forward(ids).LastHiddenState, 1e-6, 1e-6));
    }

    [Fact]
    public void Init_weights_seed_gives_every_layer_identical_weights()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("a", "double_seq_bn[init_weights_seed=42]|lora[init_weights_seed=7]");

        var state = model.GetAdapterStateDict("a");

        Assert.True(TinyModels.Same(state["bert.encoder.layer.0.output.adapters.a.adapter_up.weight"], state["bert.encoder.layer.1.output.adapters.a.adapter_up.weight"]));
        Assert.True(TinyModels.Same(state["bert.encoder.layer.0.attention.output.adapters.a.adapter_down.0.weight"], state["bert.encoder.layer.1.output.adapters.a.adapter_down.0.weight"]));
        Assert.True(TinyModels.Same(state["bert.encoder.layer.0.attention.self.query.loras.a.lora_A"], state["bert.encoder.layer.1.attention.self.value.loras.a.lora_A"]));
    }
}
