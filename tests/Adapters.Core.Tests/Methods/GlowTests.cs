using Adapters.Core.Methods.Invertible;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

public sealed class GlowTests
{
    [Fact]
    public void Glow_is_invertible_on_sequence_inputs()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Initialize();
        manual_seed(2);
        using var block = new GlowCouplingBlock(32, 2, "relu", null, null);
        var x = randn(2, 7, 32);

        var y = block.Forward(x);

        Assert.Equal(x.shape, y.shape);
        Assert.False(allclose(x, y, 1e-3, 1e-3));
        Assert.True(allclose(x, block.Inverse(y), 1e-5, 1e-5));
    }

    [Fact]
    public void Glow_adapters_have_pythons_names_and_run_on_the_embeddings()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var ids = TinyModels.InputIds();
        var plain = model.Forward(ids).LastHiddenState;

        model.AddAdapter("g", "seq_bn[inv_adapter='glow', inv_adapter_reduction_factor=2]", setActive: true);

        var state = model.GetAdapterStateDict("g");
        Assert.Equal([8L, 16L], state["bert.invertible_adapters.g.s1.0.weight"].shape);
        Assert.Equal([32L, 8L], state["bert.invertible_adapters.g.s1.2.weight"].shape);
        Assert.Equal([32L], state["bert.invertible_adapters.g.s2.2.bias"].shape);
        Assert.False(allclose(plain, model.Forward(ids).LastHiddenState, 1e-3, 1e-3));
        var embedded = randn(2, 3, 32);
        Assert.True(allclose(embedded, model.ApplyInvertibleAdapterInverse(model.modules().OfType<GlowCouplingBlock>().Single().Forward(embedded)), 1e-5, 1e-5));
    }
}
