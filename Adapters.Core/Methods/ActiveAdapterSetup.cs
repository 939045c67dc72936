using Adapters.Core.Composition;
using static TorchSharp.torch;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Methods;

/// <summary>
/// The adapters a model currently runs, shared by every adapter site of that model: a composition tree
/// (<see cref="Composition"/>, e.g. <c>Stack(a, Fuse(b, c))</c>), a scoped override of it
/// (<see cref="Override"/>, Python's <c>with AdapterSetup(...)</c>), the layers to skip, and the per-forward
/// <see cref="AdapterForwardContext"/>. Composition-aware sites (bottleneck, LoRA family, prefix tuning) ask
/// <see cref="SetupAt"/> what to run at their layer.
/// </summary>
/// <remarks>
/// Methods that apply only the first adapter of the setup (prompt tuning, ReFT, invertible adapters) read
/// <see cref="Names"/>: every adapter of the effective tree in depth-first order, so <c>Names[0]</c> is Python's
/// <c>first()</c>.
/// </remarks>
public sealed class ActiveAdapterSetup
{
    // Per-pass inputs only (the scoped setup, replicated generation inputs, task ids), as Python scopes them with
    // AdapterSetup and ForwardContext; no result of a pass is handed back through it.
    private readonly AsyncLocal<ScopedSetup?> _scoped = new();
    private IReadOnlyList<string> _names = [];

    /// <summary>The setup activated with <see cref="Set(AdapterCompositionBlock?, IEnumerable{int}?)"/>, or null when no adapter is active (Python's <c>active_setup</c>).</summary>
    public AdapterCompositionBlock? Composition { get; private set; }

    /// <summary>
    /// The setup forward passes on this async flow run: the innermost <see cref="Override"/> when one is in force
    /// (its setup may be null: no adapters), otherwise <see cref="Composition"/>.
    /// </summary>
    public AdapterCompositionBlock? Effective => _scoped.Value is { FollowsActive: false } scoped ? scoped.Setup : Composition;

    /// <summary>
    /// Whether forward passes on this async flow get inputs already replicated once per child of the effective
    /// <see cref="Parallel"/> block (Python's <c>adapter_input_parallelized=True</c>, set by generation); see
    /// <see cref="ParallelizedInput"/>.
    /// </summary>
    public bool InputParallelized => _scoped.Value is { InputParallelized: true };

    /// <summary>Whether an <see cref="Override"/> is in force on this async flow.</summary>
    public bool IsOverridden => _scoped.Value is { FollowsActive: false };

    /// <summary>Every adapter name of <see cref="Effective"/> once, in depth-first order (its <c>Flatten()</c>); empty when none is active.</summary>
    public IReadOnlyList<string> Names => _scoped.Value is { FollowsActive: false } scoped ? scoped.Names : _names;

    /// <summary>Layer indices where no adapter runs (Python's <c>skip_layers</c>, AdapterDrop).</summary>
    public IReadOnlySet<int> SkipLayers { get; private set; } = new HashSet<int>();

    /// <summary>
    /// Whether forward passes return the AdapterFusion attention probabilities on their output
    /// (<see cref="AdapterForwardOutputs.FusionAttentions"/>; Python's <c>output_adapter_fusion_attentions=True</c>).
    /// </summary>
    public bool OutputFusionAttentions { get; set; }

    /// <summary>
    /// Whether forward passes return the gate values of gated (UniPELT) bottleneck, LoRA and prefix modules on their
    /// output (<see cref="AdapterForwardOutputs.GatingScores"/>; Python's <c>output_adapter_gating_scores=True</c>).
    /// </summary>
    public bool OutputGatingScores { get; set; }

    /// <summary>The task ids in force on this async flow for <see cref="MultiTask"/> setups, or null.</summary>
    internal TaskIdInput? TaskIdInput => _scoped.Value?.TaskIds;

    /// <summary>The forward context open for this model on this async flow, or null outside a forward pass.</summary>
    public AdapterForwardContext? OpenForward => AdapterForwardContext.OpenFor(this);

    /// <summary>Replaces the setup with a stack of <paramref name="names"/> (none: no adapter active).</summary>
    public void Set(IReadOnlyList<string> names, IEnumerable<int>? skipLayers = null)
    {
        ArgumentNullException.ThrowIfNull(names);
        Set(names.Count == 0 ? null : new Stack(names.Select(n => (CompositionChild)n)), skipLayers);
    }

    /// <summary>Replaces the setup; callers validate it first (the model's <c>SetActiveAdapters</c> does).</summary>
    public void Set(AdapterCompositionBlock? setup, IEnumerable<int>? skipLayers = null)
    {
        Composition = setup;
        _names = setup?.Flatten() ?? [];
        SkipLayers = new HashSet<int>(skipLayers ?? []);
    }

    /// <summary>
    /// Runs forward passes on the current async flow with <paramref name="setup"/> (null: no adapters) until the
    /// returned handle is disposed, which restores the setup in force before (Python's <c>with AdapterSetup(setup):</c>).
    /// Other threads and <see cref="Composition"/> are unaffected; callers validate the setup first.
    /// </summary>
    public IDisposable Override(AdapterCompositionBlock? setup)
    {
        var previous = _scoped.Value;
        var scoped = new ScopedSetup(setup, setup?.Flatten() ?? []) { TaskIds = previous?.TaskIds };
        _scoped.Value = scoped;
        return new Restore(this, scoped, previous);
    }

    /// <summary>
    /// Until the returned handle is disposed, forward passes on this async flow take their inputs as already
    /// replicated for the effective Parallel block, as generation feeds them (Python pre-replicates in
    /// <c>_prepare_model_inputs</c>); the setup in force stays the same.
    /// </summary>
    public IDisposable ParallelizedInput()
    {
        var previous = _scoped.Value;
        var scoped = new ScopedSetup(Effective, Names) { InputParallelized = true, TaskIds = previous?.TaskIds };
        _scoped.Value = scoped;
        return new Restore(this, scoped, previous);
    }

    /// <summary>
    /// Until the returned handle is disposed, forward passes on this async flow route their rows through
    /// <see cref="MultiTask"/> blocks by <paramref name="taskIds"/>, Python's <c>task_ids</c> forward argument. Like the
    /// setup override, this per-pass input is scoped rather than passed down: the sites that read it sit inside modules
    /// whose forward signatures follow transformers (Python carries it on the ambient <c>ForwardContext</c> too).
    /// </summary>
    internal IDisposable UseTaskIds(TaskIdInput taskIds)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        var previous = _scoped.Value;
        var scoped = (previous ?? new ScopedSetup(Composition, _names) { FollowsActive = true }) with { TaskIds = taskIds };
        _scoped.Value = scoped;
        return new Restore(this, scoped, previous);
    }

    /// <summary>
    /// Opens the context of one forward pass (Python creates a fresh <c>ForwardContext</c> per call): no Parallel
    /// replication yet, no fusion attentions, prefix states computed on first use. Models call it first thing in their
    /// forward, with the input mask (B, S), and dispose it at the end.
    /// </summary>
    public AdapterForwardContext BeginForward(Tensor? attentionMask = null) => AdapterForwardContext.Begin(this, attentionMask);

    /// <summary>The open forward context, for sites whose block (Parallel) cannot run without one.</summary>
    /// <exception cref="AdapterCompositionException">No forward pass of this model is running on this flow.</exception>
    internal AdapterForwardContext RequireForward(AdapterCompositionBlock block) =>
        OpenForward ?? throw new AdapterCompositionException(
            $"{block} needs the per-forward state of a model pass (whether the batch was already replicated); run the layer inside the model's forward, or open ActiveAdapterSetup.BeginForward() first.");

    /// <summary>
    /// The setup to run at a site holding <paramref name="available"/> in layer <paramref name="layer"/>, as Python's
    /// <c>get_active_setup</c>: null when nothing is active, the layer is skipped, or none of the setup's adapters has a
    /// module here.
    /// </summary>
    public AdapterCompositionBlock? SetupAt(AdapterModuleDict available, int layer)
    {
        ArgumentNullException.ThrowIfNull(available);
        var setup = Effective;
        if (setup is null || available.Count == 0 || SkipLayers.Contains(layer)) return null;
        foreach (var name in Names)
            if (available.Contains(name)) return setup;
        return null;
    }

    /// <summary>
    /// The active adapters present in <paramref name="available"/>, in <see cref="Names"/> order, for layer
    /// <paramref name="layer"/>: the flat view for sites that do not compose.
    /// </summary>
    public IReadOnlyList<string> ActiveAt(AdapterModuleDict available, int layer)
    {
        ArgumentNullException.ThrowIfNull(available);
        var names = Names;
        if (names.Count == 0 || available.Count == 0 || SkipLayers.Contains(layer)) return [];
        List<string>? result = null;
        foreach (var name in names)
        {
            if (!available.Contains(name)) continue;
            (result ??= []).Add(name);
        }
        return result ?? (IReadOnlyList<string>)[];
    }

    private sealed record ScopedSetup(AdapterCompositionBlock? Setup, IReadOnlyList<string> Names)
    {
        public bool InputParallelized { get; init; }

        public TaskIdInput? TaskIds { get; init; }

        /// <summary>Only task ids are scoped: the setup is whatever is active when the pass runs.</summary>
        public bool FollowsActive { get; init; }
    }

    private sealed class Restore(ActiveAdapterSetup owner, ScopedSetup scoped, ScopedSetup? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            // Scopes end innermost first; one disposed out of order only takes itself off when it is on top.
            if (ReferenceEquals(owner._scoped.Value, scoped)) owner._scoped.Value = previous;
        }
    }
}
