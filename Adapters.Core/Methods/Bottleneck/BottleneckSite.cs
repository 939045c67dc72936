using Adapters.Core.Composition;
using Adapters.Core.Methods.Fusion;
using TorchSharp;
using static TorchSharp.torch;


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
    private readonly Composer _composition;

    /// <summary>Creates a site for layer <paramref name="layerIndex"/> at location <paramref name="location"/>.</summary>
    public BottleneckSite(ActiveAdapterSetup setup, int layerIndex, BottleneckLocation location)
    {
        _setup = setup ?? throw new ArgumentNullException(nameof(setup));
        LayerIndex = layerIndex;
        Location = location;
        Module = AdapterModuleDict.Of(("adapters", Adapters), ("adapter_fusion_layer", FusionLayers));
        _composition = new Composer(this);
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

        var state = CompositionDriver<BottleneckState>.Compose(_composition, setup,
            new BottleneckState(hidden, subBlockInput, subBlockInput, null, null, layerNorm), _setup);
        var last = Adapters.Get<BottleneckAdapter>(state.Last!)!;
        // Python passes the pre-composition output here; matching its rows lets parallel adapters follow a Parallel block.
        return last.PostForward(state.Hidden, ParallelBatch.Match(state.Hidden, hidden), state.Input, layerNorm);
    }

    /// <summary>The hooks of a bottleneck site: every composition block, with Python's <c>BottleneckLayer</c> state handling.</summary>
    private sealed class Composer(BottleneckSite site) : ICompositionSite<BottleneckState>
    {
        public string MethodName => "Bottleneck adapters";

        public int LayerIndex => site.LayerIndex;

        public bool Has(string adapter) => site.Adapters.Contains(adapter);

        public IReadOnlyList<Type> SupportedBlocks { get; } =
            [typeof(Stack), typeof(Fuse), typeof(Split), typeof(BatchSplit), typeof(MultiTask), typeof(Composition.Parallel), typeof(Average)];

        public BottleneckState PreBlock(string adapter, BottleneckState state)
        {
            // Python re-runs pre_forward for every stacked adapter: seq_bn re-applies LN(h + r0) each time.
            var (input, residual) = site.Adapters.Get<BottleneckAdapter>(adapter)!.PreForward(state.Hidden, state.Input, state.LayerNorm);
            return state with { Hidden = input, Residual = residual };
        }

        public BottleneckState Single(string adapter, BottleneckState state)
        {
            var module = site.Adapters.Get<BottleneckAdapter>(adapter)!;
            var output = module.Forward(state.Hidden, state.Residual ?? state.Hidden, out var up, out var gate);
            if (gate is not null) site._setup.OpenForward?.Outputs?.RecordGatingScore(adapter, site.LayerIndex, site.LocationKey, gate);
            return state with { Hidden = output, Up = up, Last = adapter };
        }

        public long BatchSize(BottleneckState state) => state.Hidden.shape[0];

        public BottleneckState Rows(BottleneckState state, long start, long end) => state.Rows(start, end);

        public BottleneckState SelectRows(BottleneckState state, Tensor index) => state.SelectRows(index);

        public BottleneckState Repeat(BottleneckState state, int copies) => state.Repeat(copies);

        public BottleneckState PadAndConcat(IReadOnlyList<BottleneckState> states) => BottleneckState.ConcatRows(states);

        public BottleneckState Mean(BottleneckState input, IReadOnlyList<BottleneckState> states, IReadOnlyList<double> weights, Average average)
        {
            if (states.Count == 0) return input;
            return input with { Hidden = AverageStates(states.Select(s => s.Hidden).ToList(), weights, average), Last = states[^1].Last };
        }

        public long SequenceLength(BottleneckState state) => state.Hidden.shape[1];

        public BottleneckState Positions(BottleneckState state, long start, long end) => state.Positions(start, end);

        public BottleneckState JoinPositions(BottleneckState input, IReadOnlyList<BottleneckState> parts) =>
            input with { Hidden = cat(parts.Select(p => p.Hidden).ToArray(), 1), Last = parts.LastOrDefault(p => p.Last is not null).Last ?? input.Last };

        public BottleneckState Fuse(Fuse fuse, BottleneckState state, CompositionDriver<BottleneckState>.ChildRunner children)
        {
            var fusion = site.FusionLayers.Get<AdapterFusionLayer>(fuse.Name)
                ?? throw new AdapterCompositionException(
                    $"No AdapterFusion \"{fuse.Name}\" at layer {LayerIndex} ({site.LocationKey}); add it with AddAdapterFusion, and fuse only adapters that all have this location.");
            var last = fuse.Last();
            var lastAdapter = site.Adapters.Get<BottleneckAdapter>(last)
                ?? throw new AdapterCompositionException($"Fuse needs adapter \"{last}\" at layer {LayerIndex} ({site.LocationKey}), where it has no module.");
            // The query comes from the last adapter's pre_forward: before or after the pretrained LN, or r0 for parallel adapters.
            var raw = state.Hidden;
            var (input, residual) = lastAdapter.PreForward(state.Hidden, state.Input, state.LayerNorm);
            var query = fusion.Config.QueryBeforeLn && !lastAdapter.Config.IsParallel ? raw : input;
            state = state with { Hidden = input, Residual = residual };

            var ups = new List<Tensor>();
            foreach (var child in fuse.Children)
            {
                if (!children.TryRun(child, state, out var childState)) continue;
                ups.Add(childState.Up ?? throw new AdapterCompositionException($"Fuse child {child} produced no adapter output at layer {LayerIndex}."));
            }
            var hidden = state.Hidden;
            if (ups.Count > 0)
            {
                var stacked = stack(ups, 0).permute(1, 2, 0, 3);
                var (output, probabilities) = fusion.Forward(query, stacked, residual);
                hidden = output;
                site._setup.OpenForward?.Outputs?.RecordFusionAttention(fuse.Name, LayerIndex, site.LocationKey, probabilities);
            }
            return state with { Hidden = hidden, Last = last };
        }
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
}
