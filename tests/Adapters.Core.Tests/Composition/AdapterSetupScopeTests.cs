using Adapters.Core.Composition;
using Adapters.Core.Heads;
using Adapters.Core.Methods;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Models.Bert;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;
using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Tests.Composition;

/// <summary>Python's <c>with AdapterSetup(...)</c> as <c>UseAdapterSetup</c>, and the one per-forward context.</summary>
public sealed class AdapterSetupScopeTests
{
    private static BertModel Model()
    {
        var model = TinyModels.Bert();
        model.AddAdapter("a", "seq_bn[init_weights='bert']");
        model.AddAdapter("b", "lora[init_weights='bert']");
        return model;
    }

    private static Tensor Out(BertModel model, Tensor ids) => model.Forward(ids).LastHiddenState;

    [Fact]
    public void A_scope_overrides_the_active_setup_nests_and_restores_it()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        using var _ = no_grad();
        var ids = TinyModels.InputIds();
        var plain = Out(model, ids);
        model.SetActiveAdapters("a");
        var onlyA = Out(model, ids);
        model.SetActiveAdapters("b");
        var onlyB = Out(model, ids);
        model.SetActiveAdapters(new Stack("a", "b"));
        var both = Out(model, ids);

        model.SetActiveAdapters("b");
        using (model.UseAdapterSetup(new Stack("a", "b")))
        {
            Assert.True(TinyModels.Same(both, Out(model, ids)));
            // The active setup itself is not changed by the scope.
            Assert.Equal(new Stack("b"), model.ActiveAdapters);
            using (model.UseAdapterSetup("a")) Assert.True(TinyModels.Same(onlyA, Out(model, ids)));
            using (model.UseAdapterSetup((AdapterCompositionBlock?)null)) Assert.True(TinyModels.Same(plain, Out(model, ids)));
            Assert.True(TinyModels.Same(both, Out(model, ids)));
        }
        Assert.True(TinyModels.Same(onlyB, Out(model, ids)));
        Assert.False(model.Setup.IsOverridden);
        Assert.Throws<ArgumentException>(() => model.UseAdapterSetup(new Stack("missing")));
        Assert.Throws<AdapterCompositionException>(() => model.UseAdapterSetup(new Fuse("a", new Parallel("a", "b"))));
    }

    [Fact]
    public async Task A_scope_holds_only_on_its_own_thread()
    {
        using var model = Model();
        model.SetActiveAdapters("b");
        var ids = TinyModels.InputIds();
        Tensor Expected(string adapter)
        {
            using var _ = no_grad();
            model.SetActiveAdapters(adapter);
            var result = Out(model, ids).detach().clone();
            model.SetActiveAdapters("b");
            return result;
        }
        var onlyA = Expected("a");
        var onlyB = Expected("b");
        using var barrier = new Barrier(2);

        Tensor Worker(bool scoped)
        {
            using var _ = no_grad();
            using var adapters = scoped ? model.UseAdapterSetup(new Stack("a")) : null;
            barrier.SignalAndWait();
            var result = Out(model, ids).detach().clone();
            barrier.SignalAndWait();
            return result;
        }
        // Dedicated threads, so the two workers meet at the barrier however busy the thread pool is.
        var results = await Task.WhenAll(
            Task.Factory.StartNew(() => Worker(true), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default),
            Task.Factory.StartNew(() => Worker(false), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));

        Assert.True(TinyModels.Same(onlyA, results[0]));
        Assert.True(TinyModels.Same(onlyB, results[1]));
    }

    [Fact]
    public void Each_forward_gets_a_fresh_context_that_ends_with_the_pass()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 2);

        model.SetActiveAdapters(new Parallel("a", "b"));
        Assert.Equal(4, Out(model, ids).shape[0]);
        // The replication of that pass does not leak into the next one: a second Parallel pass replicates again.
        Assert.Equal(4, Out(model, ids).shape[0]);
        Assert.Null(model.Setup.OpenForward);
        Assert.Null(AdapterForwardContext.Current);

        model.SetActiveAdapters("a");
        Assert.Equal(2, Out(model, ids).shape[0]);
    }

    [Fact]
    public void A_parallel_block_outside_a_forward_pass_is_refused_with_a_clear_error()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        using var _ = no_grad();
        model.SetActiveAdapters(new Parallel("b", "a"));
        var query = (AdaptableLinear)model.Interface.Layers[0].Query!;

        var error = Assert.Throws<AdapterCompositionException>(() => query.call(randn(2, 6, 32)));
        Assert.Contains("BeginForward", error.Message, StringComparison.Ordinal);

        using (model.Setup.BeginForward()) Assert.Equal(4, query.call(randn(2, 6, 32)).shape[0]);
    }

    [Fact]
    public void A_head_model_scope_routes_heads_like_the_setup_and_restores_the_active_head()
    {
        using var scope = NewDisposeScope();
        using var model = new FlexHeadModel(Model());
        // Two bottleneck adapters: Parallel rows then run exactly what each adapter runs alone.
        model.BaseModel.AddAdapter("c", "seq_bn[init_weights='bert']");
        model.eval();
        model.AddClassificationHead("a", numLabels: 2);
        model.AddClassificationHead("c", numLabels: 3);
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 2);
        model.SetActiveAdapters(new Stack("a"));
        var onlyA = model.Forward(ids);
        model.SetActiveAdapters(new Stack("c"));
        var onlyC = model.Forward(ids);

        using (model.UseAdapterSetup(new Parallel("a", "c")))
        {
            Assert.Equal(["a", "c"], model.CurrentHeadSetup()!.Heads);
            var heads = model.ForwardHeads(ids);
            Assert.True(allclose(onlyA, heads[0], 1e-5, 1e-5));
            Assert.True(allclose(onlyC, heads[1], 1e-5, 1e-5));
            using (model.UseAdapterSetup(new Stack("a"), new HeadSetup(["c"])))
                Assert.Equal([2L, 3L], model.Forward(ids).shape);
        }
        Assert.Equal(["c"], model.CurrentHeadSetup()!.Heads);
        Assert.True(allclose(onlyC, model.Forward(ids), 1e-6, 1e-6));
        Assert.Throws<ArgumentException>(() => model.UseAdapterSetup(new Stack("a"), new HeadSetup(["missing"])));
    }
}
