using Adapters.Core.Composition;
using Adapters.Core.Models.Bert;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;
using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Tests.Composition;

/// <summary>
/// The MultiTask block through whole tiny BERT models: rows are routed by task id, so each row must equal running its
/// task's adapter alone on that row, in the input order.
/// </summary>
public sealed class MultiTaskTests
{
    private static BertModel Model(string config)
    {
        var model = TinyModels.Bert();
        model.AddAdapter("a", config);
        model.AddAdapter("b", config);
        return model;
    }

    private static Tensor Alone(BertModel model, string adapter, Tensor ids)
    {
        model.SetActiveAdapters(adapter);
        return model.Forward(ids).LastHiddenState;
    }

    private static void Close(Tensor expected, Tensor actual) =>
        Assert.True(expected.shape.SequenceEqual(actual.shape) && allclose(expected, actual, 1e-5, 1e-5),
            $"shapes [{string.Join(",", expected.shape)}] vs [{string.Join(",", actual.shape)}]");

    [Theory]
    [InlineData("lora[init_weights='bert', attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]")]
    [InlineData("ia3[init_weights='bert']")]
    [InlineData("seq_bn[init_weights='bert']")]
    [InlineData("par_bn[init_weights='bert']")]
    public void Each_row_equals_its_task_adapter_alone_in_input_order(string config)
    {
        using var scope = NewDisposeScope();
        using var model = Model(config);
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 4);
        var onlyA = Alone(model, "a", ids);
        var onlyB = Alone(model, "b", ids);
        Assert.False(allclose(onlyA, onlyB, 1e-4, 1e-4));

        model.SetActiveAdapters(new MultiTask("a", "b"));
        Tensor routed;
        using (model.UseTaskIds(tensor(new long[] { 1, 0, 1, 0 })))
            routed = model.Forward(ids).LastHiddenState;

        Close(onlyB[0], routed[0]);
        Close(onlyA[1], routed[1]);
        Close(onlyB[2], routed[2]);
        Close(onlyA[3], routed[3]);
    }

    [Fact]
    public void Task_ids_may_name_the_children_and_a_task_may_get_no_rows()
    {
        using var scope = NewDisposeScope();
        using var model = Model("lora[init_weights='bert']");
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 3);
        var onlyB = Alone(model, "b", ids);

        model.SetActiveAdapters(new MultiTask("a", "b"));
        using (model.UseTaskIds(["b", "b", "b"]))
            Close(onlyB, model.Forward(ids).LastHiddenState);
    }

    [Fact]
    public void Missing_or_wrong_task_ids_are_refused_with_what_was_expected()
    {
        using var scope = NewDisposeScope();
        using var model = Model("lora[init_weights='bert']");
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 2);
        model.SetActiveAdapters(new MultiTask("a", "b"));

        var missing = Assert.Throws<AdapterCompositionException>(() => model.Forward(ids));
        Assert.Contains("UseTaskIds", missing.Message, StringComparison.Ordinal);

        using (model.UseTaskIds(tensor(new long[] { 0, 2 })))
        {
            var outOfRange = Assert.Throws<AdapterCompositionException>(() => model.Forward(ids));
            Assert.Contains("Task id 2 is out of range", outOfRange.Message, StringComparison.Ordinal);
        }
        using (model.UseTaskIds(["a", "c"]))
        {
            var unknown = Assert.Throws<AdapterCompositionException>(() => model.Forward(ids));
            Assert.Contains("Task \"c\" is not a child of MultiTask(a, b)", unknown.Message, StringComparison.Ordinal);
        }
        using (model.UseTaskIds(tensor(new long[] { 0, 1, 1 })))
            Assert.Contains("3 task ids for a batch of 2 rows", Assert.Throws<AdapterCompositionException>(() => model.Forward(ids)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MultiTask_is_parsed_written_and_nested_as_Python_allows()
    {
        var parsed = CompositionParser.Parse("MultiTask(a, Stack(b, c))");
        Assert.Equal(new MultiTask("a", new Stack("b", "c")), parsed);
        Assert.Equal(parsed, AdapterCompositionBlock.FromJson(parsed.ToJson()));
        CompositionRules.Validate(new Stack(new MultiTask("a", "b")));
        Assert.Throws<AdapterCompositionException>(() => CompositionRules.Validate(new MultiTask("a", new Parallel("b", "c"))));
    }
}
