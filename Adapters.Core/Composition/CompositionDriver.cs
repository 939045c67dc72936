using Adapters.Core.Methods;
using static TorchSharp.torch;

namespace Adapters.Core.Composition;

/// <summary>
/// Runs a composition setup through one adapter site: the one walk over <see cref="Stack"/>, <see cref="Fuse"/>,
/// <see cref="Split"/>, <see cref="BatchSplit"/>, <see cref="MultiTask"/>, <see cref="Parallel"/> and
/// <see cref="Average"/> that every site uses (Python's <c>ComposableAdapterLayerBase</c>). Sites supply their state
/// and hooks through <see cref="ICompositionSite{TState}"/>; nesting checks, batch slicing, Parallel replication and
/// the "not supported" errors live only here.
/// </summary>
/// <typeparam name="TState">The site's state.</typeparam>
internal static class CompositionDriver<TState>
{
    /// <summary>
    /// Python's <c>compose</c>: runs <paramref name="setup"/> on <paramref name="state"/> at <paramref name="site"/>.
    /// <paramref name="setup"/> is the model's setup for this pass (its per-pass context decides Parallel replication
    /// and holds MultiTask's task ids).
    /// </summary>
    public static TState Compose(ICompositionSite<TState> site, AdapterCompositionBlock block, TState state, ActiveAdapterSetup setup) =>
        Compose(new Walk(site, setup), block, state, 0);

    private static TState Compose(in Walk walk, AdapterCompositionBlock block, TState state, int level)
    {
        var site = walk.Site;
        if (!Supports(site, block))
        {
            // Python's default compose_fuse / compose_split: nothing to do when no adapter of the block is here.
            foreach (var name in block.Flatten())
                if (site.Has(name)) throw Unsupported(site, block);
            return state;
        }
        return block switch
        {
            Stack stack => ComposeStack(walk, stack, state, level),
            Fuse fuse => site.Fuse(fuse, state, new ChildRunner(walk, fuse, level)),
            Split split => ComposeSplit(walk, split, state, level),
            BatchSplit batchSplit => ComposeBatchSplit(walk, batchSplit, state, level),
            MultiTask multiTask => ComposeMultiTask(walk, multiTask, state, level),
            Parallel parallel => ComposeParallel(walk, parallel, state, level),
            Average average => ComposeAverage(walk, average, state, level),
            _ => throw Unsupported(site, block),
        };
    }

    private static bool Supports(ICompositionSite<TState> site, AdapterCompositionBlock block)
    {
        var type = block.GetType();
        var supported = site.SupportedBlocks;
        for (var i = 0; i < supported.Count; i++)
            if (supported[i] == type) return true;
        return false;
    }

    /// <summary>
    /// The one error for a block a site cannot compose (Python raises NotImplementedError or ValueError), naming the
    /// block, the method, the layer and what the method composes instead.
    /// </summary>
    public static AdapterCompositionException Unsupported(ICompositionSite<TState> site, AdapterCompositionBlock block) => new(
        $"{block.TypeName} is not supported at this site: {site.MethodName} (layer {site.LayerIndex}) compose "
        + $"{string.Join(", ", site.SupportedBlocks.Select(t => t.Name))} only; setup {block}.");

    private static TState ComposeChild(in Walk walk, AdapterCompositionBlock parent, AdapterCompositionBlock child, TState state, int level)
    {
        CompositionRules.CheckChild(parent, child, level);
        return Compose(walk, child, state, level + 1);
    }

    /// <summary>A child that is a block, or an adapter with a module here, runs; any other child leaves <paramref name="result"/> unset.</summary>
    private static bool TryChild(in Walk walk, AdapterCompositionBlock parent, CompositionChild child, TState state, int level, out TState result)
    {
        if (child.Block is { } block)
        {
            result = ComposeChild(walk, parent, block, state, level);
            return true;
        }
        if (walk.Site.Has(child.Adapter!))
        {
            result = walk.Site.Single(child.Adapter!, state);
            return true;
        }
        result = state;
        return false;
    }

    private static TState ComposeStack(in Walk walk, Stack stack, TState state, int level)
    {
        foreach (var child in stack.Children)
        {
            if (child.Block is { } block) state = ComposeChild(walk, stack, block, state, level);
            else if (walk.Site.Has(child.Adapter!))
                state = walk.Site.Single(child.Adapter!, walk.Site.PreBlock(child.Adapter!, state));
        }
        return state;
    }

    /// <summary>
    /// Python's <c>pre_block</c> for a block: the hook of the block's first adapter. Python takes <c>first()</c> and fails
    /// when it has no module here; the first adapter that has one is used instead (none: the state is left as it is).
    /// </summary>
    private static TState PreBlock(in Walk walk, AdapterCompositionBlock block, TState state)
    {
        foreach (var name in block.Flatten())
            if (walk.Site.Has(name)) return walk.Site.PreBlock(name, state);
        return state;
    }

    private static TState ComposeSplit(in Walk walk, Split split, TState state, int level)
    {
        RequireSum(split.Splits, walk.Site.SequenceLength(state), "The input has sequence length", "splits");
        state = PreBlock(walk, split, state);
        // Python drops the positions of a child without a module here, breaking the shape; they pass through instead.
        return walk.Site.JoinPositions(state, RunSlices(walk, split, split.Splits, state, level, alongSequence: true));
    }

    private static TState ComposeBatchSplit(in Walk walk, BatchSplit batchSplit, TState state, int level)
    {
        RequireSum(batchSplit.BatchSizes, walk.Site.BatchSize(state), "The batch has rows:", "batch_sizes");
        state = PreBlock(walk, batchSplit, state);
        // A child with no module here passes its rows through unchanged, as in Python.
        return walk.Site.PadAndConcat(RunSlices(walk, batchSplit, batchSplit.BatchSizes, state, level, alongSequence: false));
    }

    private static void RequireSum(IReadOnlyList<int> sizes, long actual, string what, string argument)
    {
        if (sizes.Sum() != actual)
            throw new AdapterCompositionException(
                $"{what} {actual}, which is not the sum of {argument} [{string.Join(", ", sizes)}] (Python raises IndexError).");
    }

    /// <summary>Child i runs on the next <c>sizes[i]</c> rows (or positions) of the state; a child with no module here keeps its slice.</summary>
    private static List<TState> RunSlices(in Walk walk, AdapterCompositionBlock block, IReadOnlyList<int> sizes, TState state, int level, bool alongSequence)
    {
        var results = new List<TState>(block.Children.Count);
        long start = 0;
        for (var i = 0; i < block.Children.Count; i++)
        {
            var end = start + sizes[i];
            var slice = alongSequence ? walk.Site.Positions(state, start, end) : walk.Site.Rows(state, start, end);
            start = end;
            results.Add(TryChild(walk, block, block.Children[i], slice, level, out var result) ? result : slice);
        }
        return results;
    }

    /// <summary>
    /// Python's <c>compose_multi_task</c>: rows are sorted by task id (stable), split into one BatchSplit child per task
    /// (the bincount of the ids), and put back in their original order. Python then runs <c>compose_batch_split</c>,
    /// which applies <c>pre_block</c> a second time; for bottleneck adapters that re-applies <c>pre_forward</c>
    /// (seq_bn: <c>LN(LN(h + r0) + r0)</c>), so here the split runs once after one <c>pre_block</c> and every row equals
    /// its task's adapter alone, as with BatchSplit. LoRA and parallel adapters are unaffected (their pre_block is idempotent).
    /// </summary>
    private static TState ComposeMultiTask(in Walk walk, MultiTask multiTask, TState state, int level)
    {
        state = PreBlock(walk, multiTask, state);
        var taskIds = walk.Setup.RequireForward(multiTask).TaskIds(multiTask, walk.Site.BatchSize(state));
        // Python nests the children in a BatchSplit, so the BatchSplit nesting rules apply to them.
        var batchSplit = new BatchSplit(taskIds.Counts, [.. multiTask.Children]);
        var sorted = walk.Site.SelectRows(state, taskIds.Order);
        var grouped = walk.Site.PadAndConcat(RunSlices(walk, batchSplit, batchSplit.BatchSizes, sorted, level, alongSequence: false));
        return walk.Site.SelectRows(grouped, taskIds.Restore);
    }

    private static TState ComposeParallel(in Walk walk, Parallel parallel, TState state, int level)
    {
        // The first adapter layer of the pass replicates the batch once per child; later layers split the replicated
        // rows (LoRA may replicate again: q, k and v each see the un-replicated layer input).
        var original = walk.Setup.RequireForward(parallel).ParallelRows(walk.Site.BatchSize(state), parallel.ParallelChannels, out var replicate);
        if (replicate) state = walk.Site.Repeat(state, parallel.ParallelChannels);
        state = PreBlock(walk, parallel, state);
        var sizes = Enumerable.Repeat(checked((int)original), parallel.Children.Count).ToArray();
        return walk.Site.PadAndConcat(RunSlices(walk, parallel, sizes, state, level, alongSequence: false));
    }

    private static TState ComposeAverage(in Walk walk, Average average, TState state, int level)
    {
        state = PreBlock(walk, average, state);
        var children = new List<TState>(average.Children.Count);
        var weights = new List<double>(average.Children.Count);
        for (var i = 0; i < average.Children.Count; i++)
        {
            // Children without a module here are left out with their weights.
            if (!TryChild(walk, average, average.Children[i], state, level, out var result)) continue;
            children.Add(result);
            weights.Add(average.Weights[i]);
        }
        return walk.Site.Mean(state, children, weights, average);
    }

    /// <summary>One call's fixed facts: the site and the model setup whose pass it runs in.</summary>
    internal readonly record struct Walk(ICompositionSite<TState> Site, ActiveAdapterSetup Setup);

    /// <summary>Runs the children of a block a site composes itself (Fuse), with the driver's nesting checks.</summary>
    public readonly struct ChildRunner
    {
        private readonly Walk _walk;
        private readonly AdapterCompositionBlock _parent;
        private readonly int _level;

        internal ChildRunner(in Walk walk, AdapterCompositionBlock parent, int level)
        {
            _walk = walk;
            _parent = parent;
            _level = level;
        }

        /// <summary>
        /// Runs <paramref name="child"/> on <paramref name="state"/> when it is a block or an adapter with a module here
        /// and returns true; otherwise returns false.
        /// </summary>
        public bool TryRun(CompositionChild child, TState state, out TState result) => TryChild(_walk, _parent, child, state, _level, out result);
    }
}
