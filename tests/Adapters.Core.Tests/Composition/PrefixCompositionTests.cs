using Adapters.Core.Composition;
using Adapters.Core.Models;
using Adapters.Core.Models.DistilBert;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;
using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Tests.Composition;

/// <summary>Prefix tuning under Stack, BatchSplit and Parallel: every slice must equal that child's setup run alone.</summary>
public sealed class PrefixCompositionTests
{
    private const string Long = "prefix_tuning[prefix_length=5, bottleneck_size=16]";
    private const string Short = "prefix_tuning_flat[prefix_length=2]";

    private static AdapterModel Model(string type)
    {
        if (type == "bert") return TinyModels.Bert();
        TorchRuntime.Initialize();
        manual_seed(3);
        var model = new DistilBertModel(TinyModels.TinyBert("distilbert"));
        model.eval();
        return model;
    }

    private static Tensor Run(AdapterModel model, AdapterCompositionBlock setup, Tensor ids, Tensor? mask)
    {
        model.SetActiveAdapters(setup);
        return ((ITextEncoder)model).Encode(ids, mask).LastHiddenState;
    }

    private static Tensor? Mask(bool masked, int batch) =>
        masked ? tensor(Enumerable.Range(0, batch).SelectMany(r => r == 0 ? new long[] { 1, 1, 1, 1, 0, 0 } : [1, 1, 1, 1, 1, 1]).ToArray()).view(batch, 6) : null;

    private static void Close(Tensor expected, Tensor actual) =>
        Assert.True(expected.shape.SequenceEqual(actual.shape) && allclose(expected, actual, 1e-5, 1e-5),
            $"shapes [{string.Join(",", expected.shape)}] vs [{string.Join(",", actual.shape)}], max diff {(expected.shape.SequenceEqual(actual.shape) ? (expected - actual).abs().max().item<float>() : float.NaN)}");

    [Theory]
    [InlineData("bert", true)]
    [InlineData("bert", false)]
    [InlineData("distilbert", true)]
    [InlineData("distilbert", false)]
    public void Parallel_prefixes_of_different_lengths_give_each_copy_of_the_batch_its_own_prefix(string type, bool masked)
    {
        using var scope = NewDisposeScope();
        using var model = Model(type);
        model.AddAdapter("a", Long);
        model.AddAdapter("b", Short);
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 2);
        var mask = Mask(masked, 2);

        var parallel = Run(model, new Parallel("a", "b"), ids, mask);
        var onlyA = Run(model, new Stack("a"), ids, mask);
        var onlyB = Run(model, new Stack("b"), ids, mask);

        Assert.Equal(4, parallel.shape[0]);
        Assert.False(allclose(onlyA, onlyB, 1e-3, 1e-3));
        Close(onlyA, parallel.slice(0, 0, 2, 1));
        Close(onlyB, parallel.slice(0, 2, 4, 1));
    }

    [Theory]
    [InlineData("bert", true)]
    [InlineData("bert", false)]
    [InlineData("distilbert", true)]
    public void BatchSplit_gives_each_rows_slice_its_adapters_prefix(string type, bool masked)
    {
        using var scope = NewDisposeScope();
        using var model = Model(type);
        model.AddAdapter("a", Long);
        model.AddAdapter("b", Short);
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 3);
        var mask = Mask(masked, 3);

        var split = Run(model, new BatchSplit([1, 2], "a", "b"), ids, mask);
        var onlyA = Run(model, new Stack("a"), ids, mask);
        var onlyB = Run(model, new Stack("b"), ids, mask);

        Close(onlyA.slice(0, 0, 1, 1), split.slice(0, 0, 1, 1));
        Close(onlyB.slice(0, 1, 3, 1), split.slice(0, 1, 3, 1));
        Assert.Throws<AdapterCompositionException>(() => Run(model, new BatchSplit([1, 1], "a", "b"), ids, mask));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rows_whose_child_has_no_prefix_attend_no_prefix(bool masked)
    {
        using var scope = NewDisposeScope();
        using var model = Model("bert");
        model.AddAdapter("p", Long);
        // LoRA passes rows of other children through untouched, so x's rows isolate the prefix layer's padding.
        model.AddAdapter("x", "lora[init_weights='bert']");
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 3);
        var mask = Mask(masked, 3);

        var split = Run(model, new BatchSplit([2, 1], "p", "x"), ids, mask);
        var onlyP = Run(model, new Stack("p"), ids, mask);
        var onlyX = Run(model, new Stack("x"), ids, mask);

        Close(onlyP.slice(0, 0, 2, 1), split.slice(0, 0, 2, 1));
        Close(onlyX.slice(0, 2, 3, 1), split.slice(0, 2, 3, 1));
    }

    [Fact]
    public void Parallel_after_lora_replicated_the_batch_and_with_a_stacked_child_matches_each_child_alone()
    {
        using var scope = NewDisposeScope();
        using var model = Model("bert");
        model.AddAdapter("a", Long);
        model.AddAdapter("b", Short);
        model.AddAdapter("l", "lora[init_weights='bert']");
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 2);
        var mask = Mask(true, 2);

        // LoRA on the query replicates the batch before the prefix layer sees it.
        var withLora = Run(model, new Parallel("a", "l"), ids, mask);
        Close(Run(model, new Stack("a"), ids, mask), withLora.slice(0, 0, 2, 1));
        Close(Run(model, new Stack("l"), ids, mask), withLora.slice(0, 2, 4, 1));

        var nested = Run(model, new Parallel(new Stack("a", "b"), "b"), ids, mask);
        Close(Run(model, new Stack("a", "b"), ids, mask), nested.slice(0, 0, 2, 1));
        Close(Run(model, new Stack("b"), ids, mask), nested.slice(0, 2, 4, 1));
    }

    [Fact]
    public void Fuse_split_and_average_with_prefixes_are_refused_naming_method_and_block()
    {
        using var scope = NewDisposeScope();
        using var model = Model("bert");
        model.AddAdapter("a", Long);
        model.AddAdapter("b", Short);
        model.AddAdapter("x", "seq_bn[init_weights='bert']");
        model.AddAdapter("y", "seq_bn[init_weights='bert']");
        using var _ = no_grad();
        var ids = TinyModels.InputIds();

        foreach (var (setup, block) in new (AdapterCompositionBlock, string)[]
                 {
                     (new Fuse("a", "b"), "Fuse"),
                     (new Split([3, 3], "a", "b"), "Split"),
                     (new Average("a", "b"), "Average"),
                     // Python's prefix layer raises for any Average it reaches, even one without prefix children.
                     (new Stack("a", new Average("x", "y")), "Average"),
                 })
        {
            var error = Assert.Throws<AdapterCompositionException>(() => Run(model, setup, ids, null));
            Assert.Contains(block + " is not supported at this site: Prefix tuning", error.Message, StringComparison.Ordinal);
        }

        // A Split without prefix children is left to the bottleneck sites, as in Python.
        var stacked = Run(model, new Stack("a", new Split([3, 3], "x", "y")), ids, null);
        Assert.Equal(ids.shape[0], stacked.shape[0]);
    }
}
