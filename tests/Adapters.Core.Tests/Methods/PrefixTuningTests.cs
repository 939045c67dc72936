using Adapters.Core.Configuration;
using Adapters.Core.Models.DistilBert;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

public sealed class PrefixTuningTests
{
    private const string Small = "prefix_tuning[prefix_length=5, bottleneck_size=16]";

    private static (Tensor Ids, Tensor Padded, Tensor Mask) PaddedPair()
    {
        var ids = TinyModels.InputIds(batch: 1, length: 6);
        var padded = cat([ids, zeros([1, 2], ScalarType.Int64)], 1);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0 }).unsqueeze(0);
        return (ids, padded, mask);
    }

    [Theory]
    [InlineData(Small)]
    [InlineData("prefix_tuning_flat[prefix_length=3]")]
    public void A_prefix_changes_outputs_and_padding_stays_masked(string config)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var (ids, padded, mask) = PaddedPair();
        var plain = model.Forward(ids).LastHiddenState;
        model.AddAdapter("p", config, setActive: true);

        var prefixed = model.Forward(ids).LastHiddenState;
        var paddedOut = model.Forward(padded, mask).LastHiddenState;

        Assert.False(allclose(plain, prefixed, 1e-3, 1e-3));
        // The extended mask attends the prefix and still hides the two padding positions.
        Assert.True(allclose(prefixed, paddedOut.narrow(1, 0, 6), 1e-5, 1e-5));
    }

    [Fact]
    public void DistilBert_prefixes_use_the_binary_mask()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Initialize();
        manual_seed(3);
        using var model = new DistilBertModel(TinyModels.TinyBert("distilbert"));
        model.eval();
        var (ids, padded, mask) = PaddedPair();
        var plain = model.Forward(ids).LastHiddenState;
        model.AddAdapter("p", Small, setActive: true);

        var prefixed = model.Forward(ids).LastHiddenState;

        Assert.False(allclose(plain, prefixed, 1e-3, 1e-3));
        Assert.True(allclose(prefixed, model.Forward(padded, mask).LastHiddenState.narrow(1, 0, 6), 1e-5, 1e-5));
        Assert.Contains("distilbert.transformer.layer.1.attention.prefix_tuning.pool.prefix_tunings.p.self_prefix.wte.weight", model.GetAdapterStateDict("p").Keys);
    }

    [Fact]
    public void Eject_turns_the_mlp_into_a_flat_prefix_with_the_same_outputs()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("p", Small, setActive: true);
        var ids = TinyModels.InputIds();
        var before = model.Forward(ids).LastHiddenState;

        model.EjectPrefixTuning("p");

        Assert.True(allclose(before, model.Forward(ids).LastHiddenState, 1e-5, 1e-6));
        // P · layers · 2 · heads · head_dim = 5 · 2 · 2 · 4 · 8
        Assert.Equal(640, model.AdapterSummaryRows()[0].ParameterCount);
        Assert.True(Assert.IsType<PrefixTuningConfig>(model.GetAdapterConfig("p")).Flat);
        Assert.Equal([640L], model.GetAdapterStateDict("p")["bert.prefix_tuning.prefix_tunings.p.self_prefix.control_trans"].shape);
    }

    [Fact]
    public void Keys_follow_python_including_the_per_layer_pool_duplicates()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("p", "prefix_tuning[prefix_length=5, bottleneck_size=16, use_gating=True, shared_gating=False, leave_out=[1]]");

        var state = model.GetAdapterStateDict("p");

        Assert.Equal([5L, 32L], state["bert.prefix_tuning.prefix_tunings.p.self_prefix.wte.weight"].shape);
        Assert.Equal([16L, 32L], state["bert.prefix_tuning.prefix_tunings.p.self_prefix.control_trans.0.weight"].shape);
        // leave_out shrinks the MLP output to one layer: 1 · 2 · 32.
        Assert.Equal([64L, 16L], state["bert.prefix_tuning.prefix_tunings.p.self_prefix.control_trans.2.weight"].shape);
        Assert.Equal([2L, 32L], state["bert.encoder.layer.0.attention.self.prefix_tuning.prefix_gates.p.weight"].shape);
        Assert.DoesNotContain("bert.encoder.layer.1.attention.self.prefix_tuning.prefix_gates.p.weight", state.Keys);
        // Python sets the pool on every layer's prefix module, left-out layers included.
        Assert.Same(state["bert.prefix_tuning.prefix_tunings.p.self_prefix.wte.weight"],
            state["bert.encoder.layer.1.attention.self.prefix_tuning.pool.prefix_tunings.p.self_prefix.wte.weight"]);
        Assert.Equal(5 + 2 * 5 + 2, state.Count);
        Assert.Equal(5 * 32 + 16 * 32 + 16 + 64 * 16 + 64 + 2 * 32 + 2, model.AdapterSummaryRows()[0].ParameterCount);
    }

    [Fact]
    public void Weights_given_only_under_pythons_duplicate_keys_load()
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Bert();
        source.AddAdapter("p", Small, setActive: true);
        var ids = TinyModels.InputIds();
        var expected = source.Forward(ids).LastHiddenState;
        var onlyDuplicates = source.GetAdapterStateDict("p")
            .Where(kv => !kv.Key.StartsWith("bert.prefix_tuning.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key.Replace(".p.", ".saved.", StringComparison.Ordinal), kv => kv.Value);
        var configFile = source.CreateAdapterConfigFile("p");
        configFile.Document["name"] = "saved";
        using var target = TinyModels.Bert();

        var result = target.LoadAdapterStateDict(configFile, onlyDuplicates, loadAs: "q", setActive: true);

        Assert.Empty(result.UnexpectedKeys);
        Assert.True(TinyModels.Same(expected, target.Forward(ids).LastHiddenState));
    }

    [Fact]
    public void Stacked_prefixes_all_run()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("a", Small);
        model.AddAdapter("b", "prefix_tuning_flat[prefix_length=2]");
        var (ids, padded, mask) = PaddedPair();
        model.SetActiveAdapters("a");
        var onlyA = model.Forward(ids).LastHiddenState;
        model.SetActiveAdapters("b");
        var onlyB = model.Forward(ids).LastHiddenState;

        model.SetActiveAdapters("a", "b");
        var both = model.Forward(ids).LastHiddenState;

        Assert.False(allclose(both, onlyA, 1e-3, 1e-3));
        Assert.False(allclose(both, onlyB, 1e-3, 1e-3));
        Assert.True(allclose(both, model.Forward(padded, mask).LastHiddenState.narrow(1, 0, 6), 1e-5, 1e-5));
    }

    [Fact]
    public void Plugin_models_without_a_prefix_hook_refuse_prefix_tuning()
    {
        using var model = PluginModel.Create(16, 2);

        Assert.Throws<AdapterConfigException>(() => model.AddAdapter("p", "prefix_tuning"));
        Assert.False(model.HasAdapter("p"));
    }
}
