using System.Text.Json.Nodes;
using Adapters.Core.Composition;
using Adapters.Core.Configuration;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;
using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Tests.Composition;

public sealed class CompositionBlockTests
{
    [Theory]
    [InlineData("Stack(a, Fuse(b, c))")]
    [InlineData("Stack[a, Fuse[b, c]]")]
    [InlineData("  Stack ( a ,Fuse(b,c) ) ")]
    [InlineData("a,[b,c]")]
    public void Setup_text_parses_to_the_same_tree(string text)
    {
        var parsed = CompositionParser.Parse(text);

        Assert.Equal(new Stack("a", new Fuse("b", "c")), parsed);
        Assert.Equal("Stack(a, Fuse(b, c))", parsed.ToString());
    }

    [Fact]
    public void A_name_or_a_comma_list_becomes_a_stack_as_python_parses_strings_and_lists()
    {
        Assert.Equal(new Stack("a"), CompositionParser.Parse("a"));
        Assert.Equal(new Stack("a", "b"), CompositionParser.Parse("a,b"));
        Assert.Equal(new Parallel("a", "b"), CompositionParser.Parse("Parallel(a, b)"));
        Assert.NotEqual<AdapterCompositionBlock>(new Stack("a", "b"), new Stack("b", "a"));
    }

    [Fact]
    public void Keyword_arguments_parse_and_the_string_form_round_trips()
    {
        var split = Assert.IsType<Split>(CompositionParser.Parse("Split(a, b, splits=[2, 4])"));
        Assert.Equal([2, 4], split.Splits);
        var batch = Assert.IsType<BatchSplit>(CompositionParser.Parse("BatchSplit(a, b, batch_sizes=3)"));
        Assert.Equal([3, 3], batch.BatchSizes);
        var average = Assert.IsType<Average>(CompositionParser.Parse("Average(a, b, weights=[3, 1])"));
        Assert.Equal([0.75, 0.25], average.Weights);
        var raw = Assert.IsType<Average>(CompositionParser.Parse("Average(a, b, weights=[3, 1], normalize_weights=False)"));
        Assert.Equal([3.0, 1.0], raw.Weights);
        var fuse = Assert.IsType<Fuse>(CompositionParser.Parse("Fuse(a, b, name=ab)"));
        Assert.Equal("ab", fuse.Name);

        foreach (var block in new AdapterCompositionBlock[] { split, batch, average, raw, fuse, new Stack("x", new Parallel("a", new Stack("b", "c"))) })
            Assert.Equal(block, CompositionParser.Parse(block.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Stack(a, b")]
    [InlineData("Split(a, b)")]
    [InlineData("Split(a, b, splits=[1, 2, 3])")]
    [InlineData("Stack(a, b, splits=[1, 2])")]
    [InlineData("Average(a, b, weights=[1, x])")]
    [InlineData("Stack(a) b")]
    public void Malformed_setup_text_is_rejected_with_a_composition_error(string text)
    {
        var error = Assert.Throws<AdapterCompositionException>(() => CompositionParser.Parse(text));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public void First_last_flatten_channels_and_default_fusion_names_follow_python()
    {
        var setup = new Stack("a", new Parallel("b", new Stack("c", "d"), "e"), new Fuse(new Stack("x", "y"), "z"));

        Assert.Equal("a", setup.First());
        Assert.Equal("z", setup.Last());
        Assert.Equal(["a", "b", "c", "d", "e", "x", "y", "z"], setup.Flatten());
        Assert.Equal(3, setup.ParallelChannels);
        Assert.Equal(1, new Stack("a", "b").ParallelChannels);
        Assert.Equal("y,z", ((Fuse)setup.Children[2].Block!).Name);
        Assert.Equal("custom", new Fuse("a", "b") { Name = "custom" }.Name);
    }

    [Fact]
    public void To_json_is_pythons_to_dict()
    {
        var json = new Stack("a", new Split([2, 4], "b", "c")).ToJson();

        Assert.Equal(
            """{"children": [{"children": ["a"], "type": "single"}, {"children": [{"children": ["b"], "type": "single"}, {"children": ["c"], "type": "single"}], "kwargs": {"splits": [2, 4]}, "type": "Split"}], "type": "Stack"}""",
            PythonJson.Dumps(json));
    }

    public static TheoryData<string, string> InvalidNestings => new()
    {
        { "Stack(Stack(a, b))", "Cannot nest" },
        { "Fuse(Parallel(a, b))", "Cannot nest" },
        { "Parallel(Fuse(a, b))", "Cannot nest" },
        { "Average(Parallel(a, b))", "Cannot nest" },
        { "Stack(Split(Average(a, b), c, splits=[2, 2]))", "too deep" },
        { "Stack(Parallel(Stack(a, BatchSplit(b, c, batch_sizes=1))))", "too deep" },
    };

    [Theory]
    [MemberData(nameof(InvalidNestings))]
    public void Pythons_nesting_and_depth_rules_are_enforced(string text, string expected)
    {
        var error = Assert.Throws<AdapterCompositionException>(() => CompositionRules.Validate(CompositionParser.Parse(text)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Stack(a, Fuse(Stack(b, c), d))")]
    [InlineData("Stack(Parallel(Stack(a, b), c))")]
    [InlineData("BatchSplit(Split(a, b, splits=[1, 1]), Average(c, d), batch_sizes=[1, 1])")]
    [InlineData("Split(Stack(a, b), c, splits=[3, 3])")]
    public void Allowed_nestings_validate(string text) => CompositionRules.Validate(CompositionParser.Parse(text));

    [Fact]
    public void Parallel_is_refused_for_model_types_python_does_not_list()
    {
        CompositionRules.Validate(new Parallel("a", "b"), modelType: "bert");
        var error = Assert.Throws<AdapterCompositionException>(() => CompositionRules.Validate(new Parallel("a", "b"), modelType: "custom"));
        Assert.Contains("Parallel", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Setting_a_setup_on_the_model_validates_names_and_nesting_and_keeps_the_flat_view()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("a", "seq_bn");
        model.AddAdapter("b", "seq_bn");
        model.AddAdapter("c", "lora");

        Assert.Throws<ArgumentException>(() => model.SetActiveAdapters(new Stack("a", "missing")));
        Assert.Throws<AdapterCompositionException>(() => model.SetActiveAdapters(new Stack(new Stack("a"))));

        model.SetActiveAdapters(CompositionParser.Parse("Stack(c, Parallel(a, b))"));
        Assert.Equal(["c", "a", "b"], model.Setup.Names);
        Assert.True(model.HasParallelAdapters);

        model.SetActiveAdapters("a", "b");
        Assert.Equal(new Stack("a", "b"), model.ActiveAdapters);
        model.DeleteAdapter("a");
        Assert.Equal(new Stack("b"), model.ActiveAdapters);

        model.SetActiveAdapters(new Average("b", "c"));
        model.DeleteAdapter("c");
        Assert.Null(model.ActiveAdapters);
        Assert.Empty(model.Setup.Names);
    }

    [Fact]
    public void Average_weights_must_match_the_children()
    {
        Assert.Throws<AdapterCompositionException>(() => new Average([1.0], true, "a", "b"));
        Assert.Throws<AdapterCompositionException>(() => new Average([1.0, -1.0], true, "a", "b"));
        Assert.Equal([0.5, 0.5], new Average("a", "b").Weights);
        Assert.Equal(JsonValue.Create(0.5)!.ToJsonString(), new Average("a", "b").ToJson()["kwargs"]!["weights"]![0]!.ToJsonString());
    }
}
