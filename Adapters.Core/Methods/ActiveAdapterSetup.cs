namespace Adapters.Core.Methods;

/// <summary>
/// The adapters a model currently runs, shared by every adapter site of that model. A setup is a stack: the adapters
/// run in order, as Python's <c>Stack(a, b)</c>; a single adapter is a stack of one.
/// </summary>
public sealed class ActiveAdapterSetup
{
    private IReadOnlyList<string> _names = [];

    /// <summary>The active adapter names in stacking order; empty when none is active.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Layer indices where no adapter runs (Python's <c>skip_layers</c>, AdapterDrop).</summary>
    public IReadOnlySet<int> SkipLayers { get; private set; } = new HashSet<int>();

    /// <summary>Replaces the setup.</summary>
    public void Set(IReadOnlyList<string> names, IEnumerable<int>? skipLayers = null)
    {
        _names = names.ToArray();
        SkipLayers = new HashSet<int>(skipLayers ?? []);
    }

    /// <summary>The active adapters present in <paramref name="available"/>, in stacking order, for layer <paramref name="layer"/>.</summary>
    public IReadOnlyList<string> ActiveAt(AdapterModuleDict available, int layer)
    {
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
