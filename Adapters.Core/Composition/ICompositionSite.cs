using static TorchSharp.torch;

namespace Adapters.Core.Composition;

/// <summary>
/// What one adapter site hands the <see cref="CompositionDriver{TState}"/>: its state type and its per-block hooks, the
/// customisable half of Python's <c>ComposableAdapterLayerBase</c>. The site says which adapters it holds and how one
/// adapter transforms the state; the driver owns the walking, nesting checks, batch slicing, Parallel replication and
/// the errors, so every site composes a setup the same way.
/// </summary>
/// <typeparam name="TState">What flows through the site's composition (Python's <c>BottleneckState</c>, <c>LoRAState</c>, …).</typeparam>
internal interface ICompositionSite<TState>
{
    /// <summary>The method family, as error messages name it (e.g. <c>"Bottleneck adapters"</c>).</summary>
    string MethodName { get; }

    /// <summary>The layer index, for error messages.</summary>
    int LayerIndex { get; }

    /// <summary>Whether adapter <paramref name="adapter"/> has a module at this site (Python's <c>adapter_modules</c>).</summary>
    bool Has(string adapter);

    /// <summary>
    /// The block types the site composes (Python's <c>supported_compositions</c>). Any other block passes the state on
    /// when none of its adapters has a module here and is refused otherwise.
    /// </summary>
    IReadOnlyList<Type> SupportedBlocks { get; }

    /// <summary>Python's <c>compose_single</c>: runs adapter <paramref name="adapter"/> (it has a module here) on <paramref name="state"/>.</summary>
    TState Single(string adapter, TState state);

    /// <summary>Python's <c>pre_block</c> for a stacked adapter (it has a module here); most sites leave the state as it is.</summary>
    TState PreBlock(string adapter, TState state) => state;

    /// <summary>The number of rows (batch size) of <paramref name="state"/> (Python's <c>_bsz</c>).</summary>
    long BatchSize(TState state);

    /// <summary>Rows <paramref name="start"/>..<paramref name="end"/> of every tensor of the state (Python's <c>vslice</c> with a slice).</summary>
    TState Rows(TState state, long start, long end);

    /// <summary>The rows <paramref name="index"/> (int64, in that order) of every tensor of the state (Python's <c>vslice</c> with an index tensor).</summary>
    TState SelectRows(TState state, Tensor index);

    /// <summary>Every tensor of the state repeated <paramref name="copies"/> times along the batch (Python's <c>repeat</c>).</summary>
    TState Repeat(TState state, int copies);

    /// <summary>The children's states joined along the batch, in order (Python's <c>pad_and_concat</c>).</summary>
    TState PadAndConcat(IReadOnlyList<TState> states);

    /// <summary>
    /// Python's <c>mean</c> over the states of the children of <paramref name="average"/> that have a module here, each
    /// with its weight; <paramref name="input"/> is the state every child started from (returned by sites that keep it
    /// when no child ran here).
    /// </summary>
    TState Mean(TState input, IReadOnlyList<TState> states, IReadOnlyList<double> weights, Average average);

    /// <summary>The sequence length of <paramref name="state"/>; needed only by sites that support <see cref="Split"/>.</summary>
    long SequenceLength(TState state) => throw new NotSupportedException();

    /// <summary>Positions <paramref name="start"/>..<paramref name="end"/> of the state; needed only by sites that support <see cref="Split"/>.</summary>
    TState Positions(TState state, long start, long end) => throw new NotSupportedException();

    /// <summary>The parts of a <see cref="Split"/> joined along the sequence; <paramref name="input"/> is the state before splitting.</summary>
    TState JoinPositions(TState input, IReadOnlyList<TState> parts) => throw new NotSupportedException();

    /// <summary>
    /// Python's <c>compose_fuse</c> for sites that support <see cref="Fuse"/>: the site runs the fusion itself and asks
    /// <paramref name="children"/> for each child's state.
    /// </summary>
    TState Fuse(Fuse fuse, TState state, CompositionDriver<TState>.ChildRunner children) => throw new NotSupportedException();
}
