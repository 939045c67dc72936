using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.ReFT;

/// <summary>
/// ReFT at one transformer layer's output (Python's <c>ReftLayer</c>, registered as <c>reft_layer</c> on each layer,
/// keys <c>reft_layer.refts.&lt;adapter&gt;.units.…</c>). A layer calls <see cref="Forward"/> on its output; only the first
/// adapter of the active setup runs, as in Python. A user's own model registers one per layer and lists it in
/// <c>AdapterLayerInterface.Reft</c>.
/// </summary>
public sealed class ReftLayer : nn.Module
{
    private readonly ActiveAdapterSetup _setup;

    /// <summary>Creates the hook for layer <paramref name="layerIndex"/>.</summary>
    public ReftLayer(ActiveAdapterSetup setup, int layerIndex) : base(nameof(ReftLayer))
    {
        _setup = setup ?? throw new ArgumentNullException(nameof(setup));
        LayerIndex = layerIndex;
        register_module("refts", Refts);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The layer index.</summary>
    public int LayerIndex { get; }

    /// <summary>The interventions by adapter name.</summary>
    public AdapterModuleDict Refts { get; } = new();

    /// <summary>
    /// Applies the first active adapter's intervention to the layer output (B, S, H), if it has one here;
    /// <paramref name="past"/> is the number of cached tokens before this decoder step.
    /// </summary>
    public Tensor Forward(Tensor hidden, long past = 0)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (_setup.ActiveAt(Refts, LayerIndex).Count == 0) return hidden;
        return Refts.Get<ReftModule>(_setup.Names[0]) is { } reft ? reft.Forward(hidden, past) : hidden;
    }
}
