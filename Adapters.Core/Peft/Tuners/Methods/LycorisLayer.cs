using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>
/// PEFT's <c>LycorisLayer</c> (LoHa, LoKr): an additive weight delta <c>ΔW</c> applied as <c>y = base(x) + x·ΔWᵀ</c>,
/// merged as <c>W += ΔW</c>. Rank and module dropout act in training only and are refused there for now.
/// </summary>
internal abstract class LycorisLayer(PeftBaseLayer baseLayer, PeftAdapterState state) : PeftTunerLayer(baseLayer, state)
{
    private readonly Dictionary<string, double> _scaling = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dropouts = new(StringComparer.Ordinal);

    /// <summary>The adapter's <c>alpha/r</c>.</summary>
    protected double Scaling(string adapter) => _scaling[adapter];

    /// <summary>Records the scaling and whether training-time dropouts are set.</summary>
    protected void SetScaling(string adapter, double scaling, PeftConfig config)
    {
        _scaling[adapter] = scaling;
        if (config.Double("rank_dropout", 0) > 0 || config.Double("module_dropout", 0) > 0) _dropouts.Add(adapter);
    }

    /// <summary>The adapter's tensor in slot <paramref name="slot"/>.</summary>
    protected Parameter Get(string slot, string adapter) => Slots.First(s => s.Name == slot)[adapter];

    /// <summary>The weight delta (out, in), scaling included.</summary>
    protected abstract Tensor Delta(string adapter);

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor baseOutput, IReadOnlyList<string> active)
    {
        var result = baseOutput;
        foreach (var adapter in active)
        {
            if (Base.Module.training && _dropouts.Contains(adapter))
                throw new AdapterConfigException($"{Base.Path}: rank_dropout/module_dropout of {PeftType} adapter \"{adapter}\" act in training; this port applies them in eval only so far.");
            result = result + nn.functional.linear(input, Delta(adapter).to(input.dtype));
        }
        return result.to(input.dtype);
    }

    /// <inheritdoc />
    protected override void MergeInto(string adapter) => AddToWeight(Delta(adapter));

    /// <inheritdoc />
    protected override void UnmergeFrom(string adapter) => AddToWeight(Delta(adapter), -1);
}
