using Adapters.Core.Composition;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;
using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Tests.Composition;

/// <summary>
/// Prompt tuning and ReFT apply only the setup's first adapter (Python's <c>adapter_setup.first()</c>) and silently
/// ignore the rest of any block, as Python does.
/// </summary>
public sealed class FirstAdapterOnlyTests
{
    [Theory]
    [InlineData("prompt_tuning[prompt_length=3]", "prompt_tuning[prompt_length=2]")]
    [InlineData("loreft[dropout=0.0]", "noreft[dropout=0.0]")]
    public void Only_the_first_adapter_of_a_block_runs(string first, string second)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("p", first);
        model.AddAdapter("q", second);
        model.AddAdapter("x", "seq_bn[init_weights='bert']");
        using var _ = no_grad();
        var ids = TinyModels.InputIds();
        Tensor Run(AdapterCompositionBlock setup)
        {
            model.SetActiveAdapters(setup);
            return model.Forward(ids).LastHiddenState;
        }
        var onlyP = Run(new Stack("p"));
        var onlyQ = Run(new Stack("q"));
        var onlyX = Run(new Stack("x"));

        Assert.False(TinyModels.Same(onlyP, onlyQ));
        Assert.True(TinyModels.Same(onlyP, Run(new Stack("p", "q"))));
        Assert.True(TinyModels.Same(onlyP, Run(new Average("p", "q"))));
        // With a bottleneck first, neither method runs; the bottleneck alone decides the output.
        Assert.True(TinyModels.Same(onlyX, Run(new Stack("x", "p"))));
        Assert.False(TinyModels.Same(onlyX, onlyP));
    }
}
