using Adapters.Core.Configuration;
using Adapters.Core.Methods.Gating;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

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
    // can be resolved with ActiveAt; the parameters live in the pool and in prefix_gates.
    private readonly AdapterModuleDict _slots = new();
    private PrefixTuningPool? _pool;

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
    public PrefixedAttention Apply(Tensor keys, Tensor values, Tensor? attentionMask, bool additiveMask, Tensor attentionInput)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(attentionInput);
        var active = _setup.ActiveAt(_slots, LayerIndex);
        if (active.Count == 0 || _pool is null) return new PrefixedAttention(keys, values, attentionMask);
        var batch = keys.shape[0];
        foreach (var name in active)
        {
            var generator = _pool.Get(name, Location)
                ?? throw new InvalidOperationException($"Prefix tuning \"{name}\" has a layer slot but no generator in the pool.");
            var row = _slots.Get<PrefixSlot>(name)!.Row;
            var states = AdapterForwardContext.Current is { } context
                ? context.PrefixStates($"{name}/{Location}/{batch}", () => generator.Generate(batch))
                : generator.Generate(batch);
            var prefixKeys = states[2 * row];
            var prefixValues = states[2 * row + 1];
            if (PrefixGates.Get<Linear>(name) is { } gate)
            {
                var score = sigmoid(gate.call(attentionInput)).mean([1]);
                if (GatingScoreRecorder.IsRecording) GatingScoreRecorder.Record(name, LayerIndex, Location, score);
                var last = score.shape[1] - 1;
                prefixKeys = prefixKeys * score.narrow(1, 0, 1).view(-1, 1, 1, 1);
                prefixValues = prefixValues * score.narrow(1, last, 1).view(-1, 1, 1, 1);
            }
            keys = cat([prefixKeys, keys], 2);
            values = cat([prefixValues, values], 2);
            if (attentionMask is not null)
            {
                var length = prefixKeys.shape[2];
                long[] shape = attentionMask.dim() == 2 ? [batch, length] : [batch, 1, attentionMask.shape[2], length];
                var prefixMask = additiveMask
                    ? zeros(shape, attentionMask.dtype, attentionMask.device)
                    : ones(shape, attentionMask.dtype, attentionMask.device);
                attentionMask = cat([prefixMask, attentionMask], -1);
            }
        }
        return new PrefixedAttention(keys, values, attentionMask);
    }

    /// <summary>An adapter's row in its pool generator at this layer.</summary>
    private sealed class PrefixSlot : nn.Module
    {
        public PrefixSlot(int row) : base(nameof(PrefixSlot)) => Row = row;

        public int Row { get; }
    }
}
