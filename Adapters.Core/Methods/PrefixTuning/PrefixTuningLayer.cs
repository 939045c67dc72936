using Adapters.Core.Composition;
using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Methods.PrefixTuning;

/// <summary>
/// Prefix tuning inside one attention module (Python's <c>PrefixTuningLayer</c>, registered as <c>prefix_tuning</c> on
/// the self-attention module): it knows which row of each adapter's pool generator belongs to this layer and holds the
/// optional UniPELT gates <c>prefix_gates.&lt;adapter&gt;</c> = Linear(H, 1 or 2), weight N(0, 0.02), default bias.
/// Models call it through <see cref="IAttentionPrefixHook"/>.
/// </summary>
public sealed class PrefixTuningLayer : nn.Module, IAttentionPrefixHook
{
    private readonly ActiveAdapterSetup _setup;
    // Unregistered: only says which adapters have a slot here (and the slot's row in the pool), so the active setup
    // can be resolved with SetupAt; the parameters live in the pool and in prefix_gates.
    private readonly AdapterModuleDict _slots = new();
    private PrefixTuningPool? _pool;
    private readonly Composer _composition;

    /// <summary>Creates the hook for layer <paramref name="layerIndex"/> of an attention with <paramref name="heads"/> heads over width <paramref name="hiddenSize"/>.</summary>
    /// <param name="setup">The model's active adapters.</param>
    /// <param name="layerIndex">The layer index.</param>
    /// <param name="heads">Prefix heads: the key/value heads (Python's <c>num_key_value_heads</c>, falling back to the attention heads).</param>
    /// <param name="hiddenSize">The model's hidden width (prefix <c>wte</c> and gate input).</param>
    /// <param name="location">The pool location key.</param>
    /// <param name="headDim">The width of one head; <c>hiddenSize / heads</c> when null (grouped-query models must pass it).</param>
    public PrefixTuningLayer(ActiveAdapterSetup setup, int layerIndex, int heads, int hiddenSize, string location = PrefixTuningPool.SelfPrefix, int? headDim = null)
        : base(nameof(PrefixTuningLayer))
    {
        _setup = setup ?? throw new ArgumentNullException(nameof(setup));
        if (heads <= 0 || (headDim is null && hiddenSize % heads != 0))
            throw new ArgumentException($"hidden size {hiddenSize} must be a positive multiple of the head count {heads}.", nameof(heads));
        if (headDim is <= 0) throw new ArgumentOutOfRangeException(nameof(headDim), headDim, "The head width must be positive.");
        LayerIndex = layerIndex;
        Heads = heads;
        HiddenSize = hiddenSize;
        HeadDim = headDim ?? hiddenSize / heads;
        Location = location;
        register_module("prefix_gates", PrefixGates);
        _composition = new Composer(this);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The layer index (for <c>leave_out</c> and skipped layers).</summary>
    public int LayerIndex { get; }

    /// <summary>Attention heads.</summary>
    public int Heads { get; }

    /// <summary>Hidden width of the model.</summary>
    public int HiddenSize { get; }

    /// <summary>Width of one prefix head.</summary>
    public int HeadDim { get; }

    /// <summary>The pool location key (<c>self_prefix</c>).</summary>
    public string Location { get; }

    /// <summary>The UniPELT gates by adapter name.</summary>
    public AdapterModuleDict PrefixGates { get; } = new();

    /// <summary>Whether adapter <paramref name="name"/> has a prefix at this layer.</summary>
    public bool Contains(string name) => _slots.Contains(name);

    /// <summary>Gives this layer row <paramref name="row"/> of adapter <paramref name="name"/>'s generator in <paramref name="pool"/>.</summary>
    internal void AddPrefix(string name, int row, PrefixTuningPool pool, PrefixTuningConfig config, Device? device, ScalarType? dtype)
    {
        _pool = pool;
        _slots.Add(name, new PrefixSlot(row));
        if (config.UseGating)
        {
            var gate = nn.Linear(HiddenSize, config.SharedGating ? 1 : 2, true, device, dtype);
            using (no_grad()) nn.init.normal_(gate.weight, 0.0, 0.02);
            PrefixGates.Add(name, gate);
        }
    }

    /// <summary>Removes adapter <paramref name="name"/>'s slot and gate; returns whether it had one.</summary>
    internal bool Remove(string name)
    {
        PrefixGates.Remove(name);
        return _slots.Remove(name);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Composes the active setup as Python's <c>PrefixTuningLayer</c> does: <see cref="Stack"/> prepends every stacked
    /// prefix (<c>Stack(a, b)</c> gives <c>[P_b, P_a, K]</c>); <see cref="BatchSplit"/> gives each child's rows that
    /// child's prefix; <see cref="Parallel"/> replicates keys, values and mask once per child when no earlier layer did
    /// (the query must then be matched to the returned rows) and gives copy i child i's prefix. Rows of children with
    /// shorter or no prefixes are padded in front with masked positions, so every slice attends exactly what its child
    /// alone would. Fuse and Split containing a prefix adapter, and Average anywhere, are refused.
    /// </remarks>
    public PrefixedAttention Apply(Tensor keys, Tensor values, Tensor? attentionMask, bool additiveMask, Tensor attentionInput)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(attentionInput);
        var setup = _setup.SetupAt(_slots, LayerIndex);
        if (setup is null || _pool is null) return new PrefixedAttention(keys, values, attentionMask);
        var context = _setup.OpenForward;
        // Prefix states are generated once per pass for the model's input batch; replicated rows reuse them.
        var inputBatch = context is { Parallelized: true } ? context.OriginalBatchSize : keys.shape[0];
        var pass = new Pass(additiveMask, inputBatch, context);
        var state = CompositionDriver<PrefixState>.Compose(_composition, setup,
            new PrefixState(keys, values, ParallelBatch.Match(keys, attentionInput), attentionMask, 0, pass), _setup);
        return new PrefixedAttention(state.Keys, state.Values, state.Mask);
    }

    /// <summary>
    /// The hooks of a prefix layer (Python's <c>PrefixTuningLayer</c>): Stack, BatchSplit and Parallel. Python also
    /// lists MultiTask; regrouping rows by task is not ported for prefixes, so it is refused here with the driver's error.
    /// </summary>
    private sealed class Composer(PrefixTuningLayer layer) : ICompositionSite<PrefixState>
    {
        public string MethodName => "Prefix tuning";

        public int LayerIndex => layer.LayerIndex;

        // Average is listed so that its Mean refuses it: Python's mean() for prefix states raises whenever an Average
        // block reaches a prefix layer, even one whose children have no prefix here.
        public IReadOnlyList<Type> SupportedBlocks { get; } = [typeof(Stack), typeof(BatchSplit), typeof(Parallel), typeof(Average)];

        public bool Has(string adapter) => layer._slots.Contains(adapter);

        public PrefixState Single(string adapter, PrefixState state) => layer.Single(adapter, state, state.Pass);

        public long BatchSize(PrefixState state) => state.Keys.shape[0];

        public PrefixState Rows(PrefixState state, long start, long end) => state.Rows(start, end - start);

        public PrefixState SelectRows(PrefixState state, Tensor index) => throw new NotSupportedException("Prefix tuning does not regroup rows.");

        public PrefixState Repeat(PrefixState state, int copies) => state.Repeat(copies);

        public PrefixState PadAndConcat(IReadOnlyList<PrefixState> states) => PrefixTuningLayer.PadAndConcat(states, states[0].Pass);

        public PrefixState Mean(PrefixState input, IReadOnlyList<PrefixState> states, IReadOnlyList<double> weights, Average average) =>
            throw new AdapterCompositionException(
                $"Average is not supported at this site: {MethodName} (layer {LayerIndex}) composes Stack, BatchSplit and Parallel only (Python raises NotImplementedError); setup {average}.");
    }

    private PrefixState Single(string name, PrefixState state, Pass pass)
    {
        var generator = _pool!.Get(name, Location)
            ?? throw new InvalidOperationException($"Prefix tuning \"{name}\" has a layer slot but no generator in the pool.");
        var row = _slots.Get<PrefixSlot>(name)!.Row;
        var batch = pass.InputBatch;
        var states = pass.Context is { } context
            ? context.PrefixStates($"{name}/{Location}/{batch}", () => generator.Generate(batch))
            : generator.Generate(batch);
        var prefixKeys = RowsOf(states[2 * row], state);
        var prefixValues = RowsOf(states[2 * row + 1], state);
        if (PrefixGates.Get<Linear>(name) is { } gate)
        {
            var score = sigmoid(gate.call(state.Residual)).mean([1]);
            pass.Context?.Outputs?.RecordGatingScore(name, LayerIndex, Location, score);
            var last = score.shape[1] - 1;
            prefixKeys = prefixKeys * score.narrow(1, 0, 1).view(-1, 1, 1, 1);
            prefixValues = prefixValues * score.narrow(1, last, 1).view(-1, 1, 1, 1);
        }
        var keys = cat([prefixKeys, state.Keys], 2);
        var values = cat([prefixValues, state.Values], 2);
        var mask = state.Mask;
        if (mask is not null)
        {
            var rows = state.Keys.shape[0];
            var length = prefixKeys.shape[2];
            long[] shape = mask.dim() == 2 ? [rows, length] : [rows, 1, mask.shape[2], length];
            var prefixMask = pass.AdditiveMask ? zeros(shape, mask.dtype, mask.device) : ones(shape, mask.dtype, mask.device);
            mask = cat([prefixMask, mask], -1);
        }
        return state with { Keys = keys, Values = values, Mask = mask };
    }

    /// <summary>
    /// The rows of the generated prefixes (input batch, heads, P, dim) that belong to <paramref name="state"/>'s rows:
    /// Python slices them for a BatchSplit child and uses all of them for each copy of a Parallel batch, i.e. row r of
    /// the (possibly replicated) batch uses generated row r mod the input batch.
    /// </summary>
    private static Tensor RowsOf(Tensor generated, PrefixState state)
    {
        var inputBatch = generated.shape[0];
        var rows = state.Keys.shape[0];
        if (rows == 0 || inputBatch == 0) return generated.narrow(0, 0, 0);
        var start = state.RowStart % inputBatch;
        if (start == 0 && rows == inputBatch) return generated;
        if (start + rows <= inputBatch) return generated.narrow(0, start, rows);
        var index = (arange(rows, ScalarType.Int64, generated.device) + start).remainder(inputBatch);
        return generated.index_select(0, index);
    }

    /// <summary>
    /// Concatenates children's rows (Python's <c>pad_and_concat</c>). Shorter key/value sequences are padded in front to
    /// the longest; the padded positions are masked (Python pads an additive mask with +1.0, which leaves them attended,
    /// and adds no mask at all when none was given; here they never receive attention, so each slice equals its child
    /// run alone).
    /// </summary>
    private static PrefixState PadAndConcat(IReadOnlyList<PrefixState> states, Pass pass)
    {
        var longest = states.Max(s => s.Keys.shape[2]);
        var padded = states.Any(s => s.Keys.shape[2] < longest);
        var keys = new Tensor[states.Count];
        var values = new Tensor[states.Count];
        var residuals = new Tensor[states.Count];
        var masks = new Tensor?[states.Count];
        for (var i = 0; i < states.Count; i++)
        {
            var state = states[i];
            var pad = longest - state.Keys.shape[2];
            keys[i] = PadFront(state.Keys, pad);
            values[i] = PadFront(state.Values, pad);
            residuals[i] = state.Residual;
            masks[i] = state.Mask is { } mask ? PadMaskFront(mask, pad, pass.AdditiveMask)
                : padded ? NewMask(state.Keys, longest - pad, pad, pass.AdditiveMask) : null;
        }
        return new PrefixState(cat(keys, 0), cat(values, 0), cat(residuals, 0),
            masks[0] is null ? null : cat(masks.Select(m => m!).ToArray(), 0), states[0].RowStart, pass);
    }

    private static Tensor PadFront(Tensor states, long pad)
    {
        if (pad == 0) return states;
        var shape = states.shape.ToArray();
        shape[2] = pad;
        return cat([zeros(shape, states.dtype, states.device), states], 2);
    }

    private static Tensor PadMaskFront(Tensor mask, long pad, bool additive)
    {
        if (pad == 0) return mask;
        var shape = mask.shape.ToArray();
        shape[^1] = pad;
        var blocked = additive ? full(shape, Generation.AttentionMasks.MinValue(mask.dtype), mask.dtype, mask.device) : zeros(shape, mask.dtype, mask.device);
        return cat([blocked, mask], -1);
    }

    /// <summary>A mask for rows that had none: attended positions, with <paramref name="pad"/> blocked ones in front.</summary>
    private static Tensor NewMask(Tensor keys, long attended, long pad, bool additive)
    {
        var rows = keys.shape[0];
        var open = additive ? zeros([rows, 1, 1, attended], keys.dtype, keys.device) : ones([rows, attended], ScalarType.Int64, keys.device);
        return PadMaskFront(open, pad, additive);
    }

    /// <summary>What a composition step works on: rows of keys and values (B, heads, L, dim), the gate input, the mask, and where the rows start in the batch.</summary>
    private readonly record struct PrefixState(Tensor Keys, Tensor Values, Tensor Residual, Tensor? Mask, long RowStart, Pass Pass)
    {
        public PrefixState Rows(long start, long count) => new(
            Keys.narrow(0, start, count), Values.narrow(0, start, count), Residual.narrow(0, start, count),
            Mask?.narrow(0, start, count), RowStart + start, Pass);

        public PrefixState Repeat(int channels) => new(
            ParallelBatch.Repeat(Keys, channels), ParallelBatch.Repeat(Values, channels), ParallelBatch.Repeat(Residual, channels),
            Mask is null ? null : ParallelBatch.Repeat(Mask, channels), RowStart, Pass);
    }

    /// <summary>Per-call facts: the mask convention, the batch the prefixes are generated for, and the forward context.</summary>
    private readonly record struct Pass(bool AdditiveMask, long InputBatch, AdapterForwardContext? Context);

    /// <summary>An adapter's row in its pool generator at this layer.</summary>
    private sealed class PrefixSlot : nn.Module
    {
        public PrefixSlot(int row) : base(nameof(PrefixSlot)) => Row = row;

        public int Row { get; }
    }
}
