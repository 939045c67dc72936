using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

public sealed class GatingTests
{
    [Fact]
    public void Unipelt_reports_a_gate_per_layer_and_location()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("u", "unipelt", setActive: true);
        var ids = TinyModels.InputIds(batch: 3);

        model.Setup.OutputGatingScores = true;
        var recorded = model.Forward(ids);
        var scores = recorded.AdapterOutputs!.GatingScores["u"];
        Assert.Equal([0, 1], scores.Keys.Order());
        foreach (var layer in scores.Values)
        {
            Assert.Equal(["output_adapter", "self_prefix", "selfattn"], layer.Keys.Order(StringComparer.Ordinal));
            foreach (var gate in layer.Values)
            {
                Assert.Equal([3L], gate.shape);
                Assert.True(gate.gt(0).all().item<bool>() && gate.lt(1).all().item<bool>());
            }
        }

        // Recording only observes: without it the output is the same and the pass reports nothing.
        model.Setup.OutputGatingScores = false;
        var plain = model.Forward(ids);
        Assert.True(TinyModels.Same(recorded.LastHiddenState, plain.LastHiddenState));
        Assert.Null(plain.AdapterOutputs);
    }

    [Fact]
    public void Unshared_prefix_gates_report_key_and_value_scores()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("p", "prefix_tuning[prefix_length=4, bottleneck_size=8, use_gating=True, shared_gating=False]", setActive: true);

        model.Setup.OutputGatingScores = true;
        var output = model.Forward(TinyModels.InputIds(batch: 2));

        Assert.Equal([2L, 2L], output.AdapterOutputs!.GatingScores["p"][1]["self_prefix"].shape);
    }

    [Fact]
    public void A_gated_bottleneck_scales_its_output_by_the_mean_sigmoid_gate()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("g", "double_seq_bn[use_gating=True, reduction_factor=4]", setActive: true);

        model.Setup.OutputGatingScores = true;
        var output = model.Forward(TinyModels.InputIds());

        Assert.Equal(["mh_adapter", "output_adapter"], output.AdapterOutputs!.GatingScores["g"][0].Keys.Order(StringComparer.Ordinal));
    }
}
