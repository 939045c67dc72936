using Adapters.Core.Composition;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Methods;

/// <summary>
/// The adapters a model currently runs, shared by every adapter site of that model: a composition tree
/// (<see cref="Composition"/>, e.g. <c>Stack(a, Fuse(b, c))</c>), the layers to skip, and the per-forward state that
/// <see cref="Parallel"/> and AdapterFusion need. Composition-aware sites (bottleneck, LoRA family) ask
/// <see cref="SetupAt"/> what to run at their layer.
/// </summary>
/// <remarks>
/// Sites that apply only a flat list of adapters (prefix or prompt tuning, ReFT, invertible adapters) keep using
/// <see cref="Names"/> (every adapter of the tree in depth-first order, so <c>Names[0]</c> is Python's
/// <c>first()</c>) and <see cref="ActiveAt"/>; both behave for a plain stack exactly as before the tree existed.
/// </remarks>
public sealed class ActiveAdapterSetup
{
    private IReadOnlyList<string> _names = [];

    /// <summary>The active setup, or null when no adapter is active.</summary>
    public AdapterCompositionBlock? Composition { get; private set; }

    /// <summary>Every active adapter name once, in depth-first order (the setup's <c>Flatten()</c>); empty when none is active.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Layer indices where no adapter runs (Python's <c>skip_layers</c>, AdapterDrop).</summary>
    public IReadOnlySet<int> SkipLayers { get; private set; } = new HashSet<int>();

    /// <summary>Whether fusion layers record their attention probabilities (Python's <c>output_adapter_fusion_attentions</c>).</summary>
    public bool OutputFusionAttentions { get; set; }

    /// <summary>State of the current forward pass; models reset it with <see cref="BeginForward"/>.</summary>
    public CompositionForwardState Forward { get; } = new();

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
    /// Starts a forward pass: forgets whether a previous pass replicated the batch and the recorded fusion attentions
    /// (Python creates a fresh <c>ForwardContext</c> per call). Models call it first thing in their forward.
    /// </summary>
    public void BeginForward() => Forward.Reset();

    /// <summary>
    /// The setup to run at a site holding <paramref name="available"/> in layer <paramref name="layer"/>, as Python's
    /// <c>get_active_setup</c>: null when nothing is active, the layer is skipped, or none of the setup's adapters has a
    /// module here.
    /// </summary>
    public AdapterCompositionBlock? SetupAt(AdapterModuleDict available, int layer)
    {
        ArgumentNullException.ThrowIfNull(available);
        if (Composition is null || available.Count == 0 || SkipLayers.Contains(layer)) return null;
        foreach (var name in _names)
            if (available.Contains(name)) return Composition;
        return null;
    }

    /// <summary>
    /// The active adapters present in <paramref name="available"/>, in <see cref="Names"/> order, for layer
    /// <paramref name="layer"/>: the flat view for sites that do not compose.
    /// </summary>
    public IReadOnlyList<string> ActiveAt(AdapterModuleDict available, int layer)
    {
        ArgumentNullException.ThrowIfNull(available);
        if (_names.Count == 0 || available.Count == 0 || SkipLayers.Contains(layer)) return [];
        List<string>? result = null;
        foreach (var name in _names)
        {
            if (!available.Contains(name)) continue;
            (result ??= []).Add(name);
        }
        return result ?? (IReadOnlyList<string>)[];
    }
}
