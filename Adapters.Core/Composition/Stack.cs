namespace Adapters.Core.Composition;

/// <summary>
/// Runs its children one after another, each on the previous one's output (Python's <c>Stack</c>). Bottleneck sites
/// re-run each stacked adapter's <c>pre_forward</c>; LoRA-family sites chain the low-rank maps (IA³ multiplies).
/// A single active adapter is a stack of one.
/// </summary>
public sealed class Stack : AdapterCompositionBlock
{
    /// <summary>Stacks <paramref name="children"/> in order.</summary>
    public Stack(params CompositionChild[] children) : base(children) { }

    /// <summary>Stacks <paramref name="children"/> in order.</summary>
    public Stack(IEnumerable<CompositionChild> children) : base(children) { }
}
