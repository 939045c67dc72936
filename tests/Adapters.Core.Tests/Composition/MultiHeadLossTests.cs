using Adapters.Core.Composition;
using Adapters.Core.Heads;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;
using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Tests.Composition;

/// <summary>Python's <c>MultiHeadOutput</c>: BatchSplit and Parallel heads sum their losses.</summary>
public sealed class MultiHeadLossTests
{
    private static FlexHeadModel Model()
    {
        var encoder = TinyModels.Bert();
        encoder.AddAdapter("a", "seq_bn[init_weights='bert']");
        encoder.AddAdapter("b", "seq_bn[init_weights='bert']");
        var model = new FlexHeadModel(encoder);
        model.eval();
        model.AddClassificationHead("a", numLabels: 2);
        model.AddClassificationHead("b", numLabels: 3);
        return model;
    }

    private static float Value(Tensor t) => t.item<float>();

    [Fact]
    public void BatchSplit_heads_score_their_own_rows_and_the_losses_are_summed()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 3);
        var labels = tensor(new long[] { 1, 2, 0 });
        model.SetActiveAdapters(new BatchSplit([1, 2], "a", "b"));

        var output = model.ForwardHeadsWithLabels(ids, labels);

        var lossA = nn.functional.cross_entropy(output.Logits[0], labels.slice(0, 0, 1, 1));
        var lossB = nn.functional.cross_entropy(output.Logits[1], labels.slice(0, 1, 3, 1));
        Assert.Equal(["a", "b"], output.Heads);
        Assert.Equal([1L, 2L], output.Logits[0].shape);
        Assert.Equal([2L, 3L], output.Logits[1].shape);
        Assert.Equal(Value(lossA), Value(output.Losses[0]!), 6);
        Assert.Equal(Value(lossB), Value(output.Losses[1]!), 6);
        Assert.Equal(Value(lossA) + Value(lossB), Value(output.Loss!), 5);
    }

    [Fact]
    public void Parallel_heads_each_score_all_labels_on_their_copy_and_the_losses_are_summed()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 2);
        var labels = tensor(new long[] { 1, 0 });
        model.SetActiveAdapters(new Stack("a"));
        var lossA = model.GetHead("a").Loss(model.Forward(ids), labels);
        model.SetActiveAdapters(new Stack("b"));
        var lossB = model.GetHead("b").Loss(model.Forward(ids), labels);

        model.SetActiveAdapters(new Parallel("a", "b"));
        var output = model.ForwardHeadsWithLabels(ids, labels);

        Assert.Equal(Value(lossA) + Value(lossB), Value(output.Loss!), 5);
        Assert.Equal(Value(lossA), Value(output.Losses[0]!), 5);
    }

    [Fact]
    public void One_head_reports_its_loss_and_several_heads_on_the_same_rows_report_no_sum()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        using var _ = no_grad();
        var ids = TinyModels.InputIds(batch: 2);
        var labels = tensor(new long[] { 1, 0 });
        model.SetActiveAdapters(new Stack("a"));

        var single = model.ForwardHeadsWithLabels(ids, labels);
        Assert.Equal(Value(model.GetHead("a").Loss(single.Logits[0], labels)), Value(single.Loss!), 6);

        model.ActiveHeadSetup = new HeadSetup(["a", "b"]);
        var several = model.ForwardHeadsWithLabels(ids, labels);
        Assert.Null(several.Loss);
        Assert.All(several.Losses, l => Assert.NotNull(l));
        Assert.Null(model.ForwardHeadsWithLabels(ids, labels).Loss);
    }
}
