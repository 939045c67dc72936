using Adapters.Core.Composition;
using Adapters.Core.Configuration;
using Adapters.Core.Methods;
using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;
using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Tests.Composition;

/// <summary>Composition at one bottleneck site, checked against the seq_bn formulas written out by hand.</summary>
public sealed class BottleneckCompositionTests
{
    private const int Hidden = 8;

    private sealed class Site : IDisposable
    {
        public Site(params string[] names)
        {
            TorchRuntime.Initialize();
            manual_seed(11);
            Norm = nn.LayerNorm(Hidden);
            using (no_grad())
            {
                Norm.weight!.copy_(rand(Hidden) + 0.5);
                Norm.bias!.copy_(randn(Hidden) * 0.1);
            }
            Location = new BottleneckSite(Setup, 0, BottleneckLocation.Output);
            var config = (BnConfig)AdapterConfig.Parse("seq_bn[reduction_factor=2]");
            foreach (var name in names)
            {
                var adapter = new BottleneckAdapter(config, Hidden, 0, null, null, null);
                // Larger up-projections than the N(0, 0.02) init so every composition visibly changes the output.
                using (no_grad()) foreach (var p in adapter.parameters()) p.copy_(randn(p.shape) * 0.5);
                adapter.eval();
                Location.Adapters.Add(name, adapter);
            }
            H = randn(2, 6, Hidden);
            R0 = randn(2, 6, Hidden);
        }

        public ActiveAdapterSetup Setup { get; } = new();
        public BottleneckSite Location { get; }
        public TorchSharp.Modules.LayerNorm Norm { get; }
        public Tensor H { get; }
        public Tensor R0 { get; }

        public Tensor Run(AdapterCompositionBlock setup)
        {
            Setup.Set(setup);
            Setup.BeginForward();
            return Location.Forward(H, R0, Norm.call);
        }

        /// <summary>The bare bottleneck: up(relu(down(x))).</summary>
        public Tensor A(string name, Tensor x)
        {
            var s = Location.Adapters.Get<BottleneckAdapter>(name)!.state_dict();
            var down = nn.functional.relu(nn.functional.linear(x, s["adapter_down.0.weight"], s["adapter_down.0.bias"]));
            return nn.functional.linear(down, s["adapter_up.weight"], s["adapter_up.bias"]);
        }

        /// <summary>seq_bn on its own: residual = h, input = LN(h + r0), output = A(input) + h.</summary>
        public Tensor Single(string name, Tensor h, Tensor r0) => A(name, Norm.call(h + r0)) + h;

        public void Dispose()
        {
            Norm.Dispose();
            foreach (var name in Location.Adapters.Names.ToArray()) Location.Adapters.Remove(name);
        }
    }

    private static void Close(Tensor expected, Tensor actual, double tolerance = 1e-5) =>
        Assert.True(expected.shape.SequenceEqual(actual.shape) && allclose(expected, actual, tolerance, tolerance),
            $"shapes [{string.Join(",", expected.shape)}] vs [{string.Join(",", actual.shape)}], max diff {(expected.shape.SequenceEqual(actual.shape) ? (expected - actual).abs().max().item<float>() : float.NaN)}");

    [Fact]
    public void Stack_reruns_pre_forward_per_adapter_and_post_forward_once()
    {
        using var scope = NewDisposeScope();
        using var site = new Site("a", "b");
        using var _ = no_grad();

        var o1 = site.Single("a", site.H, site.R0);
        var o2 = site.Single("b", o1, site.R0);
        var expected = site.Norm.call(o2 + site.R0);

        Close(expected, site.Run(new Stack("a", "b")));
        Close(site.Norm.call(o1 + site.R0), site.Run(new Stack("a")));
    }

    [Fact]
    public void Split_runs_each_adapter_on_its_positions_after_the_first_adapters_pre_forward()
    {
        using var scope = NewDisposeScope();
        using var site = new Site("a", "b");
        using var _ = no_grad();

        var input = site.Norm.call(site.H + site.R0);
        var first = site.A("a", input.slice(1, 0, 2, 1)) + site.H.slice(1, 0, 2, 1);
        var second = site.A("b", input.slice(1, 2, 6, 1)) + site.H.slice(1, 2, 6, 1);
        var expected = site.Norm.call(cat([first, second], 1) + site.R0);

        Close(expected, site.Run(new Split([2, 4], "a", "b")));
        var error = Assert.Throws<AdapterCompositionException>(() => site.Run(new Split([2, 3], "a", "b")));
        Assert.Contains("sequence length 6", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BatchSplit_routes_rows_and_checks_the_batch_size()
    {
        using var scope = NewDisposeScope();
        using var site = new Site("a", "b");
        using var _ = no_grad();

        var all = site.Run(new BatchSplit([1, 1], "a", "b"));
        var onlyA = site.Run(new Stack("a"));
        var onlyB = site.Run(new Stack("b"));

        Close(onlyA.slice(0, 0, 1, 1), all.slice(0, 0, 1, 1));
        Close(onlyB.slice(0, 1, 2, 1), all.slice(0, 1, 2, 1));
        Assert.Throws<AdapterCompositionException>(() => site.Run(new BatchSplit([1, 2], "a", "b")));
    }

    [Fact]
    public void Average_is_pythons_mean_of_weighted_outputs_with_the_extra_one_over_n_by_default()
    {
        using var scope = NewDisposeScope();
        using var site = new Site("a", "b");
        using var _ = no_grad();

        var input = site.Norm.call(site.H + site.R0);
        var outA = site.A("a", input) + site.H;
        var outB = site.A("b", input) + site.H;
        var pythonMean = (0.75 * outA + 0.25 * outB) / 2;
        var weightedSum = 0.75 * outA + 0.25 * outB;

        Close(site.Norm.call(pythonMean + site.R0), site.Run(new Average([3.0, 1.0], true, "a", "b")));
        Close(site.Norm.call(weightedSum + site.R0), site.Run(new Average([3.0, 1.0], true, "a", "b") { Reduction = AverageReduction.WeightedSum }));
    }

    [Fact]
    public void Parallel_replicates_the_batch_once_and_gives_each_adapter_its_copy()
    {
        using var scope = NewDisposeScope();
        using var site = new Site("a", "b");
        using var _ = no_grad();

        var parallel = site.Run(new Parallel("a", "b"));

        Assert.Equal([4L, 6, Hidden], parallel.shape);
        Close(site.Norm.call(site.Single("a", site.H, site.R0) + site.R0), parallel.slice(0, 0, 2, 1));
        Close(site.Norm.call(site.Single("b", site.H, site.R0) + site.R0), parallel.slice(0, 2, 4, 1));
        Assert.True(site.Setup.OpenForward!.Parallelized);
        Assert.Equal(2, site.Setup.OpenForward.OriginalBatchSize);

        // A later layer of the same pass sees the replicated batch and does not replicate again.
        var later = site.Location.Forward(parallel, ParallelBatch.Repeat(site.R0, 2), site.Norm.call);
        Assert.Equal([4L, 6, Hidden], later.shape);
    }

    [Fact]
    public void Skipped_layers_and_setups_without_adapters_here_give_the_plain_sub_block()
    {
        using var scope = NewDisposeScope();
        using var site = new Site("a");
        using var _ = no_grad();
        var plain = site.Norm.call(site.H + site.R0);

        Close(plain, site.Run(new Stack("other")));
        site.Setup.Set(new Stack("a"), [0]);
        Close(plain, site.Location.Forward(site.H, site.R0, site.Norm.call));
    }
}
