using TorchSharp;

namespace Adapters.Core.Methods.Bottleneck;

/// <summary>
/// A container whose children are named by position like <c>nn.Sequential</c> (<c>adapter_down.0.weight</c>), but
/// which only holds the modules that have parameters; activations sit between them as functions.
/// </summary>
internal sealed class IndexedModule : torch.nn.Module
{
    public IndexedModule(params (int Index, torch.nn.Module Module)[] children) : base(nameof(IndexedModule))
    {
        foreach (var (index, module) in children)
            register_module(index.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }
}
