using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

/// <summary>Compacter with <c>shared_W_phm=True</c>: one W per adapter in <c>shared_parameters</c>, read by every layer.</summary>
public sealed class CompacterSharedWeightTests : IClassFixture<BertBaseFixture>, IDisposable
{
    private readonly BertBaseFixture _fixture;
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("adapters-compacter-");

    public CompacterSharedWeightTests(BertBaseFixture fixture) => _fixture = fixture;

    public void Dispose() => _dir.Delete(recursive: true);

    [Theory]
    // 24 PHM pairs keep only their biases (24 + 768); shared W_down_left 4·192·1, W_down_right 4·1·6,
    // W_up_left 4·6·1, W_up_right 4·1·192 = 1,584; shared rule 4³ = 64.
    [InlineData("compacter[shared_W_phm=True]", 24 * (24 + 768) + 1_584 + 64)]
    // Unfactorised: W_down 4·192·6 + W_up 4·6·192 = 9,216.
    [InlineData("compacter[shared_W_phm=True, factorized_phm_W=False]", 24 * (24 + 768) + 9_216 + 64)]
    // compacter++ (output adapter only), local rules: 12 × (24 + 768 + 2 local rules 4³).
    [InlineData("compacter++[shared_W_phm=True, shared_phm_rule=False]", 12 * (24 + 768 + 2 * 64) + 1_584)]
    public void Bert_base_counts_follow_pythons_shared_parameter_layout(string config, long expected)
    {
        var model = _fixture.Model;
        model.AddAdapter("x", config);
        try
        {
            Assert.Equal(expected, model.AdapterSummaryRows()[0].ParameterCount);
        }
        finally
        {
            model.DeleteAdapter("x");
        }
    }

    [Fact]
    public void Every_layer_reads_the_one_shared_w_and_no_layer_keeps_its_own()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("c", "compacter[reduction_factor=4, shared_W_phm=True]", setActive: true);

        var state = model.GetAdapterStateDict("c");
        Assert.Equal([4L, 8L, 1L], state["bert.shared_parameters.c.W_down_left"].shape);
        Assert.Equal([4L, 1L, 2L], state["bert.shared_parameters.c.W_down_right"].shape);
        Assert.Equal([4L, 2L, 1L], state["bert.shared_parameters.c.W_up_left"].shape);
        Assert.Equal([4L, 1L, 8L], state["bert.shared_parameters.c.W_up_right"].shape);
        Assert.DoesNotContain(state.Keys, k => k.EndsWith(".W_left", StringComparison.Ordinal) || k.EndsWith(".W_right", StringComparison.Ordinal));
        Assert.Contains("bert.encoder.layer.1.output.adapters.c.adapter_down.0.b", state.Keys);

        // Changing the shared up-projection must change the output of every adapted layer: check that all
        // four PHM up-projections' gradients land in the single shared tensor.
        model.TrainAdapter("c");
        var ids = TinyModels.InputIds();
        model.Forward(ids).LastHiddenState.pow(2).mean().backward();
        var shared = model.AdapterParameters("c").Single(p => p.Key == "bert.shared_parameters.c.W_up_right").Parameter;
        Assert.NotNull(shared.grad);
        Assert.True(shared.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void A_shared_w_compacter_saves_and_loads_into_a_fresh_model_with_identical_outputs()
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Bert(seed: 3);
        source.AddAdapter("c", "compacter[reduction_factor=4, shared_W_phm=True, factorized_phm_W=False]", setActive: true);
        using (no_grad())
        {
            foreach (var (_, parameter) in source.AdapterParameters("c")) parameter.add_(randn_like(parameter) * 0.1);
        }
        var ids = TinyModels.InputIds();
        var expected = ((ITextEncoder)source).Encode(ids).LastHiddenState;

        source.SaveAdapter(_dir.FullName, "c");
        using var target = TinyModels.Bert(seed: 3);
        var result = target.LoadAdapter(_dir.FullName, setActive: true);

        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.True(TinyModels.Same(expected, ((ITextEncoder)target).Encode(ids).LastHiddenState));
    }

    [Fact]
    public void A_per_layer_reduction_factor_cannot_share_one_w()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var config = new CompacterConfig { SharedWPhm = true, ReductionFactor = ReductionFactor.FromJson(System.Text.Json.Nodes.JsonNode.Parse("{\"0\": 4, \"default\": 8}"), "reduction_factor") };

        var ex = Assert.Throws<AdapterConfigException>(() => model.AddAdapter("c", config));
        Assert.Contains("shared_W_phm", ex.Message, StringComparison.Ordinal);
        Assert.False(model.HasAdapter("c"));
    }
}
