using Adapters.Core.Configuration;
using Adapters.Core.Methods;
using Adapters.Core.Methods.ReFT;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

public sealed class ReftTests
{
    private static Tensor Gram(Tensor r) => matmul(r, r.t());

    private static IEnumerable<Tensor> Projections(ReftModule module) => module.Units.Select(u => u.Projection());

    [Fact]
    public void LoReft_projection_is_orthonormal_after_init_and_after_an_optimiser_step()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("r", "loreft[r=3, dropout=0.0, suffix_positions=2]");
        model.TrainAdapter("r");
        var modules = model.modules().OfType<ReftModule>().ToArray();
        Assert.Equal(2, modules.Length);
        var before = modules.SelectMany(Projections).Select(p => p.detach().clone()).ToArray();
        foreach (var r in before) Assert.True(allclose(Gram(r), eye(3), 1e-5, 1e-5));

        using var optimizer = optim.Adam(model.parameters().Where(p => p.requires_grad), 0.05);
        var ids = TinyModels.InputIds();
        for (var step = 0; step < 3; step++)
        {
            optimizer.zero_grad();
            model.Forward(ids).LastHiddenState.pow(2).mean().backward();
            optimizer.step();
        }

        var after = modules.SelectMany(Projections).Select(p => p.detach()).ToArray();
        for (var i = 0; i < after.Length; i++)
        {
            Assert.True(allclose(Gram(after[i]), eye(3), 1e-5, 1e-5));
            Assert.False(allclose(after[i], before[i], 1e-4, 1e-4));
        }
    }

    [Fact]
    public void Orthogonal_weight_is_torchs_householder_map_of_original_and_base()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Initialize();
        manual_seed(11);
        using var weight = new OrthogonalWeight(8, 2, null, null);
        using (no_grad()) weight.Original.add_(randn(2, 8) * 0.3);

        // torch: X = originalᵀ, A = tril(X, -1), τ = 2/(1 + ΣA²), Q = Π (I − τ v vᵀ)[:, :k] · sign-int(diag X); R = (base·Q)ᵀ.
        var x = weight.Original.detach().t();
        var a = x.tril(-1);
        var q = eye(8, 2);
        for (var i = 1; i >= 0; i--)
        {
            var v = (a.select(1, i) + eye(8, 2).select(1, i)).unsqueeze(1);
            var tau = 2.0 / (1.0 + v.pow(2).sum() - 1.0);
            q = q - tau * matmul(v, matmul(v.t(), q));
        }
        q = q * x.diagonal().to(ScalarType.Int32).to(ScalarType.Float32).unsqueeze(0);
        var baseMatrix = weight.state_dict()["parametrizations.weight.0.base"];
        var expected = matmul(baseMatrix, q).t();

        Assert.True(allclose(expected, weight.Weight(), 1e-5, 1e-6));
        Assert.True(allclose(Gram(weight.Weight()), eye(2), 1e-5, 1e-5));
        Assert.True(allclose(matmul(baseMatrix.t(), baseMatrix), eye(8), 1e-5, 1e-5));
    }

    [Fact]
    public void Keys_and_unit_counts_follow_python()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("lo", "loreft");
        model.AddAdapter("no", "noreft[tied_weights=True, layers=[1]]");

        var lo = model.GetAdapterStateDict("lo");
        var no = model.GetAdapterStateDict("no");

        Assert.Equal([1L, 32L], lo["bert.encoder.layer.0.reft_layer.refts.lo.units.1.projection.parametrizations.weight.original"].shape);
        Assert.Equal([32L, 32L], lo["bert.encoder.layer.1.reft_layer.refts.lo.units.0.projection.parametrizations.weight.0.base"].shape);
        Assert.Equal([1L, 32L], lo["bert.encoder.layer.0.reft_layer.refts.lo.units.0.learned_source.weight"].shape);
        Assert.Equal(2 * 2 * 4, lo.Count);
        Assert.Equal([1L, 32L], no["bert.encoder.layer.1.reft_layer.refts.no.units.0.projection.weight"].shape);
        Assert.Equal(3, no.Count);
        // The base buffer is saved but is not a parameter: 2 layers · 2 units · (32 + 1 + 32).
        Assert.Equal(260, model.AdapterSummaryRows()[0].ParameterCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Only_the_prefix_and_suffix_positions_change_with_the_reft_formula(bool subtract)
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Initialize();
        manual_seed(5);
        var config = (subtract ? (ReftConfig)new NoReftConfig() : new DiReftConfig()) with { Dropout = 0.0, PrefixPositions = 2, SuffixPositions = 1 };
        using var module = new ReftModule(config, 16, null, null);
        module.eval();
        var hidden = randn(2, 6, 16);
        // Row 1 is left-padded by two positions.
        var mask = tensor(new long[,] { { 1, 1, 1, 1, 1, 1 }, { 0, 0, 1, 1, 1, 1 } });

        Tensor output;
        using (AdapterForwardContext.Begin(mask)) output = module.Forward(hidden);

        var state = module.state_dict();
        Tensor Expected(int unit, Tensor h)
        {
            var w = state[$"units.{unit}.learned_source.weight"];
            var b = state[$"units.{unit}.learned_source.bias"];
            var r = state[$"units.{unit}.projection.weight"];
            var source = matmul(h, w.t()) + b;
            if (subtract) source = source - matmul(h, r.t());
            return h + matmul(source, r);
        }
        var changed = new[] { new[] { 0, 1, 5 }, new[] { 2, 3, 5 } };
        for (var row = 0; row < 2; row++)
        {
            for (var position = 0; position < 6; position++)
            {
                var h = hidden[row, position];
                var o = output[row, position];
                if (!changed[row].Contains(position)) Assert.True(TinyModels.Same(h, o), $"row {row} position {position}");
                else Assert.True(allclose(Expected(position == 5 ? 1 : 0, h), o, 1e-5, 1e-6), $"row {row} position {position}");
            }
        }
    }

    [Fact]
    public void Only_the_first_adapter_of_the_setup_runs()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("r", "loreft[dropout=0.0]");
        model.AddAdapter("l", "lora[init_weights='bert']");
        var ids = TinyModels.InputIds();
        var plain = model.Forward(ids).LastHiddenState;
        model.SetActiveAdapters("l");
        var loraOnly = model.Forward(ids).LastHiddenState;

        model.SetActiveAdapters("l", "r");
        Assert.True(TinyModels.Same(loraOnly, model.Forward(ids).LastHiddenState));
        model.SetActiveAdapters("r");
        var reftOnly = model.Forward(ids).LastHiddenState;
        Assert.False(allclose(plain, reftOnly, 1e-4, 1e-4));
    }

    [Fact]
    public void A_plugin_model_gets_lora_bottleneck_and_reft_and_trains_them()
    {
        using var scope = NewDisposeScope();
        using var model = PluginModel.Create(16, 2);
        var x = randn(3, 5, 16);
        var baseline = model.Forward(x).detach();
        var baseWeights = TinyModels.CloneState(model);

        model.AddAdapter("task", "lora[output_lora=True, init_weights='bert']|seq_bn[reduction_factor=4]|loreft[suffix_positions=1, dropout=0.0]");
        model.TrainAdapter("task");

        var keys = model.GetAdapterStateDict("task").Keys.ToHashSet();
        Assert.Contains("model.layers.0.q.loras.task.lora_A", keys);
        Assert.Contains("model.layers.1.down.loras.task.lora_B", keys);
        Assert.Contains("model.layers.0.output_adapters.task.adapter_up.weight", keys);
        Assert.Contains("model.layers.1.reft_layer.refts.task.units.1.projection.parametrizations.weight.original", keys);
        Assert.Contains("model.layers.0.reft_layer.refts.task.units.0.projection.parametrizations.weight.0.base", keys);

        var target = randn(3, 5, 16);
        using var optimizer = optim.SGD(model.parameters().Where(p => p.requires_grad), 0.05);
        var losses = new List<float>();
        for (var step = 0; step < 10; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(model.Forward(x), target);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        Assert.True(losses[^1] < losses[0]);
        foreach (var (key, value) in baseWeights) Assert.True(TinyModels.Same(value, model.state_dict()[key]), key);

        // The masked variant reads positions from the mask; with everything attended it matches the unmasked pass.
        model.eval();
        using (no_grad())
        {
            Assert.True(TinyModels.Same(model.Forward(x), model.Forward(x, ones(3, 5))));
            model.SetActiveAdapters();
            Assert.True(TinyModels.Same(baseline, model.Forward(x)));
        }
    }

    [Fact]
    public void Bad_reft_configs_raise_typed_errors()
    {
        using var model = TinyModels.Bert();

        Assert.Throws<AdapterConfigException>(() => model.AddAdapter("a", "loreft[layers=[7]]"));
        Assert.Throws<AdapterConfigException>(() => model.AddAdapter("b", "loreft[r=32]"));
        Assert.Throws<AdapterConfigException>(() => model.AddAdapter("c", "noreft[r=0]"));
        Assert.Empty(model.AdapterNames);
    }
}
