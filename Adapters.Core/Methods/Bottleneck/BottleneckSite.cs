using Adapters.Core.Composition;
using Adapters.Core.Methods.Fusion;
using Adapters.Core.Methods.Gating;
using TorchSharp;
using static TorchSharp.torch;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Methods.Bottleneck;

/// <summary>
/// One place in a layer where bottleneck adapters run (after attention or after the feed-forward block): Python's
/// <c>BottleneckLayer</c> with its composition functions. The owning module registers <see cref="Adapters"/> and
/// <see cref="FusionLayers"/> under the names Python uses (<c>adapters</c> / <c>adapter_fusion_layer</c> on BERT's
/// output modules, under <c>attention_adapters</c> / <c>output_adapters</c> on DistilBERT).
/// </summary>
public sealed class BottleneckSite
{
    private readonly ActiveAdapterSetup _setup;

    /// <summary>Creates a site for layer <paramref name="layerIndex"/> at location <paramref name="location"/>.</summary>
    public BottleneckSite(ActiveAdapterSetup setup, int layerIndex, BottleneckLocation location)
    {
        _setup = setup ?? throw new ArgumentNullException(nameof(setup));
        LayerIndex = layerIndex;
        Location = location;
        Module = AdapterModuleDict.Of(("adapters", Adapters), ("adapter_fusion_layer", FusionLayers));
    }

    /// <summary>The adapters at this site, by name.</summary>
    public AdapterModuleDict Adapters { get; } = new();

    /// <summary>The AdapterFusion layers at this site, by fusion name (<c>"a,b"</c> by default).</summary>
    public AdapterModuleDict FusionLayers { get; } = new();

    /// <summary>
    /// <see cref="Adapters"/> and <see cref="FusionLayers"/> under Python's <c>adapters</c> and <c>adapter_fusion_layer</c>:
    /// the module a layer registers as <c>attention_adapters</c> / <c>output_adapters</c> (DistilBERT, GPT-2, Llama), so
    /// that every model keys bottleneck and fusion weights the same way.
    /// </summary>
    public AdapterModuleDict Module { get; }

    /// <summary>The layer index.</summary>
    public int LayerIndex { get; }

    /// <summary>Which sub-block this site follows.</summary>
    public BottleneckLocation Location { get; }

    /// <summary>Python's location key: <c>mh_adapter</c> or <c>output_adapter</c>.</summary>
    public string LocationKey => Location == BottleneckLocation.Attention ? "mh_adapter" : "output_adapter";

    /// <summary>
    /// Runs the active setup on <paramref name="hidden"/>, the sub-block output, given the sub-block input
    /// <paramref name="subBlockInput"/> and the block's pretrained LayerNorm (null for pre-LN models). With no active
    /// adapter here this is <c>LN(hidden + input)</c>, the unmodified model.
    /// </summary>
    public Tensor Forward(Tensor hidden, Tensor? subBlockInput, Func<Tensor, Tensor>? layerNorm)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (subBlockInput is not null)
        {
            // After a Parallel block replicated the batch, either side may still hold the original rows.
            subBlockInput = ParallelBatch.Match(hidden, subBlockInput);
            hidden = ParallelBatch.Match(subBlockInput, hidden);
        }
        var setup = _setup.SetupAt(Adapters, LayerIndex);
        if (setup is null)
        {
            var sum = subBlockInput is null ? hidden : hidden + subBlockInput;
            return layerNorm is null ? sum : layerNorm(sum);
        }

        var state = Compose(setup, new BottleneckState(hidden, subBlockInput, subBlockInput, null, null), 0, layerNorm);
        var last = Adapters.Get<BottleneckAdapter>(state.Last!)!;
        // Python passes the pre-composition output here; matching its rows lets parallel adapters follow a Parallel block.
        return last.PostForward(state.Hidden, ParallelBatch.Match(state.Hidden, hidden), state.Input, layerNorm);
    }

    private BottleneckState Compose(AdapterCompositionBlock block, BottleneckState state, int level, Func<Tensor, Tensor>? layerNorm) => block switch
    {
        Stack stack => ComposeStack(stack, state, level, layerNorm),
        Fuse fuse => ComposeFuse(fuse, state, level, layerNorm),
        Split split => ComposeSplit(split, state, level, layerNorm),
        BatchSplit batchSplit => ComposeBatchSplit(batchSplit, state, level, layerNorm),
        Parallel parallel => ComposeParallel(parallel, state, level, layerNorm),
        Average average => ComposeAverage(average, state, level, layerNorm),
        _ => throw new AdapterCompositionException($"Bottleneck adapters do not support {block.TypeName} blocks."),
    };

    private BottleneckState ComposeChild(AdapterCompositionBlock parent, CompositionChild child, BottleneckState state, int level, Func<Tensor, Tensor>? layerNorm)
    {
        CompositionRules.CheckChild(parent, child.Block!, level);
        return Compose(child.Block!, state, level + 1, layerNorm);
    }

    private BottleneckState ComposeStack(Stack stack, BottleneckState state, int level, Func<Tensor, Tensor>? layerNorm)
    {
        foreach (var child in stack.Children)
        {
            if (child.Block is not null)
            {
                state = ComposeChild(stack, child, state, level, layerNorm);
            }
            else if (Adapters.Contains(child.Adapter!))
            {
                // Python re-runs pre_forward for every stacked adapter: seq_bn re-applies LN(h + r0) each time.
                state = PreBlock(child.Adapter!, state, layerNorm);
                state = Single(child.Adapter!, state);
            }
        }
        return state;
    }

    private BottleneckState ComposeFuse(Fuse fuse, BottleneckState state, int level, Func<Tensor, Tensor>? layerNorm)
    {
        if (!fuse.Flatten().Any(Adapters.Contains)) return state;
        var fusion = FusionLayers.Get<AdapterFusionLayer>(fuse.Name)
            ?? throw new AdapterCompositionException(
                $"No AdapterFusion \"{fuse.Name}\" at layer {LayerIndex} ({LocationKey}); add it with AddAdapterFusion, and fuse only adapters that all have this location.");
        var last = fuse.Last();
        var lastAdapter = Adapters.Get<BottleneckAdapter>(last)
            ?? throw new AdapterCompositionException($"Fuse needs adapter \"{last}\" at layer {LayerIndex} ({LocationKey}), where it has no module.");
        // The query comes from the last adapter's pre_forward: before or after the pretrained LN, or r0 for parallel adapters.
        var raw = state.Hidden;
        var (input, residual) = lastAdapter.PreForward(state.Hidden, state.Input, layerNorm);
        var query = fusion.Config.QueryBeforeLn && !lastAdapter.Config.IsParallel ? raw : input;
        state = state with { Hidden = input, Residual = residual };

        var ups = new List<Tensor>();
        foreach (var child in fuse.Children)
        {
            BottleneckState childState;
            if (child.Block is not null) childState = ComposeChild(fuse, child, state, level, layerNorm);
            else if (Adapters.Contains(child.Adapter!)) childState = Single(child.Adapter!, state);
            else continue;
            ups.Add(childState.Up ?? throw new AdapterCompositionException($"Fuse child {child} produced no adapter output at layer {LayerIndex}."));
        }
        var hidden = state.Hidden;
        if (ups.Count > 0)
        {
            var stacked = stack(ups, 0).permute(1, 2, 0, 3);
            var (output, probabilities) = fusion.Forward(query, stacked, residual);
            hidden = output;
            if (_setup.OutputFusionAttentions) _setup.OpenForward?.RecordFusionAttention(fuse.Name, LayerIndex, LocationKey, probabilities);
        }
        return state with { Hidden = hidden, Last = last };
    }

    private BottleneckState ComposeSplit(Split split, BottleneckState state, int level, Func<Tensor, Tensor>? layerNorm)
    {
        var length = state.Hidden.shape[1];
        if (split.Splits.Sum() != length)
            throw new AdapterCompositionException(
                $"The input has sequence length {length}, which is not the sum of splits [{string.Join(", ", split.Splits)}] (Python raises IndexError).");
        state = PreBlock(split, state, layerNorm);
        var parts = new List<Tensor>();
        string? last = null;
        long start = 0;
        foreach (var (child, size) in split.Children.Zip(split.Splits))
        {
            var childState = state.Positions(start, start + size);
            start += size;
            if (child.Block is not null) childState = ComposeChild(split, child, childState, level, layerNorm);
            else if (Adapters.Contains(child.Adapter!)) childState = Single(child.Adapter!, childState);
            // Python drops the positions of a child without a module here, breaking the shape; they pass through instead.
            parts.Add(childState.Hidden);
            last = childState.Last ?? last;
        }
        return state with { Hidden = cat(parts, 1), Last = last };
    }

    private BottleneckState ComposeBatchSplit(BatchSplit batchSplit, BottleneckState state, int level, Func<Tensor, Tensor>? layerNorm)
    {
        var batch = state.Hidden.shape[0];
        if (batchSplit.BatchSizes.Sum() != batch)
            throw new AdapterCompositionException(
                $"The batch has {batch} rows, which is not the sum of batch_sizes [{string.Join(", ", batchSplit.BatchSizes)}] (Python raises IndexError).");
        state = PreBlock(batchSplit, state, layerNorm);
        var children = new List<BottleneckState>();
        long start = 0;
        foreach (var (child, size) in batchSplit.Children.Zip(batchSplit.BatchSizes))
        {
            var rows = state.Rows(start, start + size);
            start += size;
            children.Add(RunChild(batchSplit, child, rows, level, layerNorm));
        }
        return BottleneckState.ConcatRows(children);
    }

    private BottleneckState ComposeParallel(Parallel parallel, BottleneckState state, int level, Func<Tensor, Tensor>? layerNorm)
    {
        // The first adapter layer that sees the Parallel block replicates the batch once per child.
        var original = _setup.RequireForward(parallel).ParallelRows(state.Hidden.shape[0], parallel.ParallelChannels, out var replicate);
        if (replicate) state = state.Repeat(parallel.ParallelChannels);
        state = PreBlock(parallel, state, layerNorm);
        var children = new List<BottleneckState>();
        for (var i = 0; i < parallel.Children.Count; i++)
            children.Add(RunChild(parallel, parallel.Children[i], state.Rows(i * original, (i + 1) * original), level, layerNorm));
        return BottleneckState.ConcatRows(children);
    }

    private BottleneckState ComposeAverage(Average average, BottleneckState state, int level, Func<Tensor, Tensor>? layerNorm)
    {
        state = PreBlock(average, state, layerNorm);
        var outputs = new List<Tensor>();
        var weights = new List<double>();
        BottleneckState lastState = state;
        for (var i = 0; i < average.Children.Count; i++)
        {
            var child = average.Children[i];
            if (child.Block is not null) lastState = ComposeChild(average, child, state, level, layerNorm);
            else if (Adapters.Contains(child.Adapter!)) lastState = Single(child.Adapter!, state);
            else continue;
            outputs.Add(lastState.Hidden);
            weights.Add(average.Weights[i]);
        }
        if (outputs.Count == 0) return state;
        return state with { Hidden = AverageStates(outputs, weights, average), Last = lastState.Last };
    }

    /// <summary>
    /// Python's <c>mean(stack(states) · w, dim=0)</c>, or the weighted sum with <see cref="AverageReduction.WeightedSum"/>.
    /// Children without a module at this layer are left out with their weights.
    /// </summary>
    internal static Tensor AverageStates(IReadOnlyList<Tensor> outputs, IReadOnlyList<double> weights, Average average)
    {
        var target = outputs.Select(o => o.shape).Aggregate(BroadcastShape);
        var stacked = stack(outputs.Select(o => o.shape.SequenceEqual(target) ? o : o.expand(target)), 0);
        var shape = new long[stacked.dim()];
        Array.Fill(shape, 1L);
        shape[0] = weights.Count;
        var w = tensor(weights.ToArray(), stacked.dtype, stacked.device).view(shape);
        var weighted = stacked * w;
        return average.Reduction == AverageReduction.PythonMean ? weighted.mean(new long[] { 0 }) : weighted.sum(new long[] { 0 });
    }

    private static long[] BroadcastShape(long[] a, long[] b)
    {
        var result = new long[Math.Max(a.Length, b.Length)];
        for (var i = 1; i <= result.Length; i++)
        {
            var x = i <= a.Length ? a[^i] : 1;
            var y = i <= b.Length ? b[^i] : 1;
            result[^i] = x == 1 ? y : y == 1 || y == x ? x
                : throw new AdapterCompositionException($"Average cannot combine outputs of shapes [{string.Join(", ", a)}] and [{string.Join(", ", b)}].");
        }
        return result;
    }

    private BottleneckState RunChild(AdapterCompositionBlock parent, CompositionChild child, BottleneckState rows, int level, Func<Tensor, Tensor>? layerNorm)
    {
        if (child.Block is not null) return ComposeChild(parent, child, rows, level, layerNorm);
        // A child with no module in this layer passes its rows through unchanged, as in Python.
        return Adapters.Contains(child.Adapter!) ? Single(child.Adapter!, rows) : rows;
    }

    private BottleneckState PreBlock(AdapterCompositionBlock block, BottleneckState state, Func<Tensor, Tensor>? layerNorm)
    {
        // Python takes block.first() and fails when it has no module here; the first adapter present is used instead.
        var first = block.Flatten().FirstOrDefault(Adapters.Contains);
        return first is null ? state : PreBlock(first, state, layerNorm);
    }

    private BottleneckState PreBlock(string adapter, BottleneckState state, Func<Tensor, Tensor>? layerNorm)
    {
        var (input, residual) = Adapters.Get<BottleneckAdapter>(adapter)!.PreForward(state.Hidden, state.Input, layerNorm);
        return state with { Hidden = input, Residual = residual };
    }

    private BottleneckState Single(string adapter, BottleneckState state)
    {
        var module = Adapters.Get<BottleneckAdapter>(adapter)!;
        var output = module.Forward(state.Hidden, state.Residual ?? state.Hidden, out var up);
        if (module.LastGate is { } gate)
            GatingScoreRecorder.Record(adapter, LayerIndex, Location == BottleneckLocation.Attention ? "mh_adapter" : "output_adapter", gate);
        return state with { Hidden = output, Up = up, Last = adapter };
    }
}
