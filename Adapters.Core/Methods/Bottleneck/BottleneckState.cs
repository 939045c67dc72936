using static TorchSharp.torch;

namespace Adapters.Core.Methods.Bottleneck;

/// <summary>
/// What flows through a bottleneck site's composition (Python's <c>BottleneckState</c>): the hidden states, the
/// sub-block input <c>r0</c>, the adapter residual, the last adapter's up-projection (for fusion) and the name of the
/// last adapter applied, whose <c>post_forward</c> finishes the site.
/// </summary>
internal readonly record struct BottleneckState(Tensor Hidden, Tensor? Input, Tensor? Residual, Tensor? Up, string? Last)
{
    /// <summary>Rows <paramref name="start"/>..<paramref name="end"/> of every tensor (Python's <c>vslice</c>).</summary>
    public BottleneckState Rows(long start, long end) => new(
        Hidden.slice(0, start, end, 1), Input?.slice(0, start, end, 1), Residual?.slice(0, start, end, 1), Up?.slice(0, start, end, 1), Last);

    /// <summary>Positions <paramref name="start"/>..<paramref name="end"/> of every tensor; the last adapter is cleared, as Python's Split does.</summary>
    public BottleneckState Positions(long start, long end) => new(
        Hidden.slice(1, start, end, 1), Input?.slice(1, start, end, 1), Residual?.slice(1, start, end, 1), Up?.slice(1, start, end, 1), null);

    /// <summary>Every tensor repeated <paramref name="copies"/> times along the batch (Python's <c>repeat</c>).</summary>
    public BottleneckState Repeat(int copies) => new(
        Composition.ParallelBatch.Repeat(Hidden, copies),
        Input is null ? null : Composition.ParallelBatch.Repeat(Input, copies),
        Residual is null ? null : Composition.ParallelBatch.Repeat(Residual, copies),
        Up is null ? null : Composition.ParallelBatch.Repeat(Up, copies),
        Last);

    /// <summary>The states joined along the batch (Python's <c>pad_and_concat</c>); the last adapter is the last one that ran.</summary>
    public static BottleneckState ConcatRows(IReadOnlyList<BottleneckState> states) => new(
        cat(states.Select(s => s.Hidden).ToArray(), 0),
        states.All(s => s.Input is not null) ? cat(states.Select(s => s.Input!).ToArray(), 0) : null,
        states.All(s => s.Residual is not null) ? cat(states.Select(s => s.Residual!).ToArray(), 0) : null,
        states.All(s => s.Up is not null) ? cat(states.Select(s => s.Up!).ToArray(), 0) : null,
        states.LastOrDefault(s => s.Last is not null).Last);
}
