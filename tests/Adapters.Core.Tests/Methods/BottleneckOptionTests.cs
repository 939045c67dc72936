using Adapters.Core.Configuration;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

public sealed class BottleneckOptionTests
{
    [Fact]
    public void Leave_out_and_per_layer_reduction_factors_shape_the_modules()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("bn", "seq_bn[reduction_factor={'1': 2, 'default': 8}]");
        model.AddAdapter("lo", "lora[leave_out=[0]]");

        var bn = model.GetAdapterStateDict("bn");
        var lo = model.GetAdapterStateDict("lo");

        Assert.Equal([4L, 32L], bn["bert.encoder.layer.0.output.adapters.bn.adapter_down.0.weight"].shape);
        Assert.Equal([16L, 32L], bn["bert.encoder.layer.1.output.adapters.bn.adapter_down.0.weight"].shape);
        Assert.DoesNotContain(lo.Keys, k => k.Contains("layer.0.", StringComparison.Ordinal));
        Assert.Equal(4, lo.Count);
    }

    [Fact]
    public void Adapter_plus_drops_whole_rows_only_in_training_and_scales_per_channel()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("plus", new AdapterPlusConfig { StochasticDepth = 0.5, ReductionFactor = 4 }, setActive: true);
        var ids = TinyModels.InputIds(batch: 16);

        using var _ = no_grad();
        var first = model.Forward(ids).LastHiddenState;
        Assert.True(TinyModels.Same(first, model.Forward(ids).LastHiddenState));

        model.train();
        manual_seed(1);
        var a = model.Forward(ids).LastHiddenState;
        manual_seed(2);
        var b = model.Forward(ids).LastHiddenState;
        Assert.False(allclose(a, b, 1e-6, 1e-6));
    }

    [Fact]
    public void Parallel_adapter_reads_the_sub_block_input_and_adds_scaled_output()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var ids = TinyModels.InputIds();
        using var _ = no_grad();
        var before = model.Forward(ids).LastHiddenState;
        model.AddAdapter("p", "par_bn[init_weights='bert']", setActive: true);
        var withFour = model.Forward(ids).LastHiddenState;
        model.DeleteAdapter("p");
        manual_seed(0);
        model.AddAdapter("p", "par_bn[init_weights='bert', scaling=0.0]", setActive: true);

        Assert.False(allclose(before, withFour, 1e-5, 1e-5));
        Assert.True(TinyModels.Same(before, model.Forward(ids).LastHiddenState));
    }
}
