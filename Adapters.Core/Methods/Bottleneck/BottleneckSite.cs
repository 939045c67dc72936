using Adapters.Core.Methods.Gating;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.Bottleneck;

/// <summary>
/// One place in a layer where bottleneck adapters run (after attention or after the feed-forward block): Python's
/// <c>BottleneckLayer.bottleneck_layer_forward</c>. The owning module registers <see cref="Adapters"/> under the
/// name Python uses (<c>adapters</c> on BERT's output modules, <c>attention_adapters.adapters</c> on DistilBERT).
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
    }

    /// <summary>The adapters at this site, by name.</summary>
    public AdapterModuleDict Adapters { get; } = new();

    /// <summary>The layer index.</summary>
    public int LayerIndex { get; }

    /// <summary>Which sub-block this site follows.</summary>
    public BottleneckLocation Location { get; }

    /// <summary>
    /// Runs the active adapters on <paramref name="hidden"/>, the sub-block output, given the sub-block input
    /// <paramref name="subBlockInput"/> and the block's pretrained LayerNorm (null for pre-LN models). With no active
    /// adapter this is <c>LN(hidden + input)</c>, the unmodified model.
    /// </summary>
    public Tensor Forward(Tensor hidden, Tensor? subBlockInput, Func<Tensor, Tensor>? layerNorm)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        var active = _setup.ActiveAt(Adapters, LayerIndex);
        if (active.Count == 0)
        {
            var sum = subBlockInput is null ? hidden : hidden + subBlockInput;
            return layerNorm is null ? sum : layerNorm(sum);
        }

        var state = hidden;
        BottleneckAdapter? last = null;
        foreach (var name in active)
        {
            last = Adapters.Get<BottleneckAdapter>(name)!;
            var (input, residual) = last.PreForward(state, subBlockInput, layerNorm);
            state = last.Forward(input, residual);
            if (last.LastGate is { } gate)
                GatingScoreRecorder.Record(name, LayerIndex, Location == BottleneckLocation.Attention ? "mh_adapter" : "output_adapter", gate);
        }
        return last!.PostForward(state, hidden, subBlockInput, layerNorm);
    }
}
