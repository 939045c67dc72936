using static TorchSharp.torch;

namespace Adapters.Core.Methods.Bottleneck;

/// <summary>
/// What flows through a bottleneck site's composition (Python's <c>BottleneckState</c>): the hidden states, the
/// sub-block input <c>r0</c>, the adapter residual, the last adapter's up-projection (for fusion), the name of the
/// last adapter applied, whose <c>post_forward</c> finishes the site, and the block's pretrained LayerNorm (null for
/// pre-LN models), which <c>pre_forward</c> may apply.
/// </summary>
internal readonly record struct BottleneckState(Tensor Hidden, Tensor? Input, Tensor? Residual, Tensor? Up, string? Last, Func<Tensor, Tensor>? LayerNorm)
{
    /// <summary>Rows <paramref name="start"/>..<paramref name="end"/> of every tensor (Python's <c>vslice</c>).</summary>
    public BottleneckState Rows(long start, long end) => Map(t => t.slice(0, start, end, 1));

    /// <summary>Rows <paramref name="index"/> of every tensor, in that order (Python's <c>vslice</c> with an index tensor).</summary>
    public BottleneckState SelectRows(Tensor index) => Map(t => t.index_select(0, index.to(t.device)));

    /// <summary>Positions <paramref name="start"/>..<paramref name="end"/> of every tensor; the last adapter is cleared, as Python's Split does.</summary>
    public BottleneckState Positions(long start, long end) => Map(t => t.slice(1, start, end, 1)) with { Last = null };

    /// <summary>Every tensor repeated <paramref name="copies"/> times along the batch (Python's <c>repeat</c>).</summary>
    public BottleneckState Repeat(int copies) => Map(t => Composition.ParallelBatch.Repeat(t, copies));

    /// <summary>The states joined along the batch (Python's <c>pad_and_concat</c>); the last adapter is the last one that ran.</summary>
    public static BottleneckState ConcatRows(IReadOnlyList<BottleneckState> states) => new(
        cat(states.Select(s => s.Hidden).ToArray(), 0),
        states.All(s => s.Input is not null) ? cat(states.Select(s => s.Input!).ToArray(), 0) : null,
        states.All(s => s.Residual is not null) ? cat(states.Select(s => s.Residual!).ToArray(), 0) : null,
        states.All(s => s.Up is not null) ? cat(states.Select(s => s.Up!).ToArray(), 0) : null,
        states.LastOrDefault(s => s.Last is not null).Last,
        states[0].LayerNorm);

    private BottleneckState Map(Func<Tensor, Tensor> f) =>
        this with { Hidden = f(Hidden), Input = Input is null ? null : f(Input), Residual = Residual is null ? null : f(Residual), Up = Up is null ? null : f(Up) };
}
