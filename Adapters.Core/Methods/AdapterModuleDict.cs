using Adapters.Core.Conversion;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods;

/// <summary>
/// A name → module container whose entries appear in the state dict as <c>&lt;path&gt;.&lt;name&gt;.…</c>, like Python's
/// <c>nn.ModuleDict</c>. Unlike TorchSharp's ModuleDict it registers entries added after construction and can remove
/// them again, which adding and deleting adapters needs.
/// </summary>
public sealed class AdapterModuleDict : nn.Module
{
    private readonly List<string> _order = [];

    /// <summary>Creates an empty container.</summary>
    public AdapterModuleDict() : base(nameof(AdapterModuleDict)) { }

    /// <summary>Names in insertion order.</summary>
    public IReadOnlyList<string> Names => _order;

    /// <summary>A container holding <paramref name="children"/> under their names, in order.</summary>
    public static AdapterModuleDict Of(params (string Name, nn.Module Module)[] children)
    {
        var dict = new AdapterModuleDict();
        foreach (var (name, module) in children) dict.Add(name, module);
        return dict;
    }

    /// <summary>Number of entries.</summary>
    public int Count => _order.Count;

    /// <summary>Adds <paramref name="module"/> under <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is taken or contains a dot (it would break state-dict paths).</exception>
    public void Add(string name, nn.Module module)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(module);
        if (name.Contains('.', StringComparison.Ordinal))
            throw new ArgumentException($"Adapter name \"{name}\" must not contain '.', which separates state-dict path parts.", nameof(name));
        if (_order.Contains(name)) throw new ArgumentException($"\"{name}\" is already present.", nameof(name));
        register_module(name, module);
        _order.Add(name);
        // An entry built on this container's device (e.g. an adapter added to a model on a GPU) records the CPU;
        // align its record so that a later model.to(device) moves it with the rest.
        DeviceRecord.Align(module, _deviceType == DeviceType.CPU ? null : new Device(_deviceType, _deviceIndex));
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>Whether an entry named <paramref name="name"/> exists.</summary>
    public bool Contains(string name) => _order.Contains(name);

    /// <summary>The entry named <paramref name="name"/> when it exists and has type <typeparamref name="T"/>.</summary>
    public T? Get<T>(string name) where T : nn.Module =>
        _order.Contains(name) && _internal_submodules.TryGetValue(name, out var module) ? module as T : null;

    /// <summary>Removes and disposes the entry; returns false when absent.</summary>
    public bool Remove(string name)
    {
        if (!_order.Remove(name)) return false;
        if (_internal_submodules.TryGetValue(name, out var module))
        {
            _internal_submodules.Remove(name);
            module.Dispose();
        }
        return true;
    }
}
