using Adapters.Core.Composition;
using Adapters.Core.Heads;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Models.Bert;
using Adapters.Core.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;
using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Tests.Composition;

/// <summary>Composition through whole tiny BERT models: each slice must equal running that adapter alone.</summary>
public sealed class ModelCompositionTests
{
    private static BertModel Model(string config)
    {
        var model = TinyModels.Bert();
        model.AddAdapter("a", config);
        model.AddAdapter("b", config);
        return model;
    }

    private static Tensor Run(BertModel model, AdapterCompositionBlock setup, Tensor ids)
    {
        model.SetActiveAdapters(setup);
        return model.Forward(ids).LastHiddenState;
    }

    private static void Close(Tensor expected, Tensor actual, double tolerance = 1e-5) =>
        Assert.True(expected.shape.SequenceEqual(actual.shape) && allclose(expected, actual, tolerance, tolerance),
            $"shapes [{string.Join(",", expected.shape)}] vs [{string.Join(",", actual.shape)}]");

    [Theory]
    [InlineData("seq_bn[init_weights='bert']")]
    [InlineData("double_seq_bn")]
    [InlineData("par_bn[init_weights='bert']")]
    [InlineData("lora[init_weights='bert']")]
    [InlineData("lora[init_weights='bert', attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]")]
    [InlineData("ia3[init_weights='bert']")]
    public void Parallel_returns_n_times_the_rows_and_each_slice_equals_that_adapter_alone(string config)
    {
        using var scope = NewDisposeScope();
        using var model = Model(config);
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 3);

        var parallel = Run(model, new Parallel("a", "b"), ids);
        var onlyA = Run(model, new Stack("a"), ids);
        var onlyB = Run(model, new Stack("b"), ids);

        Assert.Equal(6, parallel.shape[0]);
        Assert.False(allclose(onlyA, onlyB, 1e-4, 1e-4));
        Close(onlyA, parallel.slice(0, 0, 3, 1));
        Close(onlyB, parallel.slice(0, 3, 6, 1));
    }

    [Fact]
    public void Parallel_with_an_attention_mask_and_a_stacked_child_matches_the_stack_alone()
    {
        using var scope = NewDisposeScope();
        using var model = Model("lora[init_weights='bert']");
        model.AddAdapter("c", "lora[init_weights='bert', intermediate_lora=True]");
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 2);
        var mask = tensor(new long[,] { { 1, 1, 1, 1, 0, 0 }, { 1, 1, 1, 1, 1, 1 } });

        model.SetActiveAdapters(new Parallel(new Stack("c", "a"), "b"));
        var parallel = model.Forward(ids, mask).LastHiddenState;
        model.SetActiveAdapters(new Stack("c", "a"));
        var stacked = model.Forward(ids, mask).LastHiddenState;
        model.SetActiveAdapters("b");
        var onlyB = model.Forward(ids, mask).LastHiddenState;

        Close(stacked, parallel.slice(0, 0, 2, 1));
        Close(onlyB, parallel.slice(0, 2, 4, 1));
    }

    [Fact]
    public void Parallel_of_a_bottleneck_stack_runs_pre_forward_again_inside_the_stack_as_python_does()
    {
        using var scope = NewDisposeScope();
        using var model = Model("seq_bn[init_weights='bert']");
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 2);

        // compose_parallel runs the first adapter's pre_forward, then compose_stack runs it again for "a":
        // seq_bn's LN(h + r0) is applied twice, so the slice differs from Stack(a) alone while the plain child matches.
        var parallel = Run(model, new Parallel(new Stack("a"), "b"), ids);
        var onlyA = Run(model, new Stack("a"), ids);
        var onlyB = Run(model, new Stack("b"), ids);

        Assert.False(allclose(onlyA, parallel.slice(0, 0, 2, 1), 1e-4, 1e-4));
        Close(onlyB, parallel.slice(0, 2, 4, 1), 1e-4);
    }

    [Theory]
    [InlineData("seq_bn[init_weights='bert']")]
    [InlineData("lora[init_weights='bert']")]
    [InlineData("ia3[init_weights='bert']")]
    public void BatchSplit_routes_rows_to_adapters(string config)
    {
        using var scope = NewDisposeScope();
        using var model = Model(config);
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 3);

        var split = Run(model, new BatchSplit([1, 2], "a", "b"), ids);
        var onlyA = Run(model, new Stack("a"), ids);
        var onlyB = Run(model, new Stack("b"), ids);

        Close(onlyA.slice(0, 0, 1, 1), split.slice(0, 0, 1, 1));
        Close(onlyB.slice(0, 1, 3, 1), split.slice(0, 1, 3, 1));
        Assert.Throws<AdapterCompositionException>(() => Run(model, new BatchSplit([1, 1], "a", "b"), ids));
    }

    [Fact]
    public void Stacked_lora_chains_the_low_rank_maps()
    {
        using var scope = NewDisposeScope();
        using var model = Model("lora[init_weights='bert', alpha=16]");
        using var _ = no_grad();
        var query = (AdaptableLinear)model.Interface.Layers[0].Query!;
        var x = randn(2, 5, 32);
        Tensor Part(string adapter, string key) => query.Loras.Get<LoRALayer>(adapter)!.state_dict()[key];
        var deltaA = matmul(matmul(x, Part("a", "lora_A").t()), Part("a", "lora_B").t()) * 2.0;
        var deltaAB = matmul(matmul(deltaA, Part("b", "lora_A").t()), Part("b", "lora_B").t()) * 2.0;
        var frozen = nn.functional.linear(x, query.weight, query.bias);

        model.SetActiveAdapters(new Stack("a", "b"));
        Close(frozen + deltaAB, query.call(x));

        var deltaB = matmul(matmul(x, Part("b", "lora_A").t()), Part("b", "lora_B").t()) * 2.0;
        model.SetActiveAdapters(new Average([3.0, 1.0], true, "a", "b"));
        Close(frozen + (0.75 * deltaA + 0.25 * deltaB) / 2, query.call(x));
    }

    [Fact]
    public void Stacked_ia3_multiplies_the_scaling_vectors()
    {
        using var scope = NewDisposeScope();
        using var model = Model("ia3[init_weights='bert']");
        using var _ = no_grad();
        var value = (AdaptableLinear)model.Interface.Layers[1].Value!;
        var x = randn(2, 5, 32);
        Tensor Vector(string adapter) => value.Loras.Get<LoRALayer>(adapter)!.state_dict()["lora_B"].reshape(-1);

        model.SetActiveAdapters(new Stack("a", "b"));

        Close(nn.functional.linear(x, value.weight, value.bias) * Vector("a") * Vector("b"), value.call(x));
    }

    [Fact]
    public void Fuse_and_split_are_refused_for_lora_but_ignored_where_no_lora_module_takes_part()
    {
        using var scope = NewDisposeScope();
        using var model = Model("lora");
        model.AddAdapter("x", "seq_bn");
        model.AddAdapter("y", "seq_bn");
        model.AddAdapterFusion("x,y");
        using var _ = no_grad();
        var ids = TinyModels.InputIds();

        var error = Assert.Throws<AdapterCompositionException>(() => Run(model, new Fuse("a", "b"), ids));
        Assert.Contains("Fuse is not supported at this site: LoRA", error.Message, StringComparison.Ordinal);
        Assert.Throws<AdapterCompositionException>(() => Run(model, new Split([3, 3], "a", "b"), ids));
        Assert.Equal(ids.shape[0], Run(model, new Stack("a", new Fuse("x", "y")), ids).shape[0]);
    }

    [Fact]
    public void A_merged_lora_skips_composition()
    {
        using var scope = NewDisposeScope();
        using var model = Model("lora[init_weights='bert']");
        using var _ = no_grad();
        var ids = TinyModels.InputIds();
        var onlyA = Run(model, new Stack("a"), ids);

        model.SetActiveAdapters(new Stack("a", "b"));
        model.MergeAdapter("a");

        Close(onlyA, model.Forward(ids).LastHiddenState);
    }

    [Fact]
    public void Heads_named_after_parallel_and_batch_split_children_get_their_rows()
    {
        using var scope = NewDisposeScope();
        using var model = new FlexHeadModel(Model("seq_bn[init_weights='bert']"));
        model.eval();
        model.AddClassificationHead("a", numLabels: 2);
        model.AddClassificationHead("b", numLabels: 3);
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 2);

        model.SetActiveAdapters(new Stack("a"));
        var onlyA = model.Forward(ids);
        model.SetActiveAdapters(new Stack("b"));
        var onlyB = model.Forward(ids);

        model.SetActiveAdapters(new Parallel("a", "b"));
        Assert.Equal(["a", "b"], model.ActiveHeadSetup!.Heads);
        Assert.Throws<InvalidOperationException>(() => model.Forward(ids));
        var parallel = model.ForwardHeads(ids);
        Close(onlyA, parallel[0]);
        Close(onlyB, parallel[1]);

        model.SetActiveAdapters(new BatchSplit([1, 1], "a", "b"));
        var split = model.ForwardHeads(ids);
        Close(onlyA.slice(0, 0, 1, 1), split[0]);
        Close(onlyB.slice(0, 1, 2, 1), split[1]);

        Assert.Equal(["b"], HeadSetup.FromComposition(new Stack("a", "b"))!.Heads);
        Assert.Null(HeadSetup.FromComposition(new Stack("a", new Fuse("a", "b"))));
        Assert.Throws<ArgumentException>(() => HeadSetup.FromComposition(new BatchSplit(1, "a", "c"), ["a", "b"]));
    }
}
