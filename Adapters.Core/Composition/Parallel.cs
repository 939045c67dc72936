namespace Adapters.Core.Composition;

/// <summary>
/// Runs every child on its own copy of the input (Python's <c>Parallel</c>): the first adapter layer that sees the
/// setup replicates the batch once per child, so later layers and the model output hold N·B rows, child i owning
/// rows <c>[i·B, (i+1)·B)</c>. Heads named after the children each get their slice.
/// </summary>
public sealed class Parallel : AdapterCompositionBlock
{
    /// <summary>Runs <paramref name="children"/> side by side.</summary>
    public Parallel(params CompositionChild[] children) : base(children) { }

    /// <summary>The number of children: each needs its own copy of the batch.</summary>
    public override int ParallelChannels => Children.Count;
}
