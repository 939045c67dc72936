using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>
/// PEFT's <c>LycorisLayer</c> (LoHa, LoKr): an additive weight delta <c>ΔW</c> applied as <c>y = base(x) + x·ΔWᵀ</c>,
/// merged as <c>W += ΔW</c>. In training, <c>module_dropout</c> skips the whole adapter with that probability and
/// <c>rank_dropout</c> zeroes rows of ΔW (rescaled by the kept fraction where the method scales); merges use the whole ΔW.
/// </summary>
internal abstract class LycorisLayer(PeftBaseLayer baseLayer, PeftAdapterState state) : PeftTunerLayer(baseLayer, state)
{
    private readonly Dictionary<string, double> _scaling = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (double Rank, double Module, bool ScaleRank)> _dropouts = new(StringComparer.Ordinal);

    /// <summary>The adapter's <c>alpha/r</c>.</summary>
    protected double Scaling(string adapter) => _scaling[adapter];

    /// <summary>Records the scaling and the training-time dropouts (<paramref name="scaleRankDropout"/>: divide the kept rows by their mean).</summary>
    protected void SetScaling(string adapter, double scaling, PeftConfig config, bool scaleRankDropout)
    {
        _scaling[adapter] = scaling;
        _dropouts[adapter] = (config.Double("rank_dropout", 0), config.Double("module_dropout", 0), scaleRankDropout);
    }

    /// <summary>The adapter's tensor in slot <paramref name="slot"/>.</summary>
    protected Parameter Get(string slot, string adapter) => Slots.First(s => s.Name == slot)[adapter];

    /// <summary>The weight delta (out, in), scaling included.</summary>
    protected abstract Tensor Delta(string adapter);

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor baseOutput, IReadOnlyList<string> active)
    {
        var result = baseOutput;
        var training = Base.Module.training;
        foreach (var adapter in active)
        {
            var (rankDropout, moduleDropout, scaleRank) = _dropouts[adapter];
            // PEFT draws once per adapter and forward in training: the adapter runs when rand > module_dropout.
            if (training && rand(1).item<float>() <= moduleDropout) continue;
            var delta = Delta(adapter);
            if (training && rankDropout > 0)
            {
                var keep = (rand(delta.shape[0]) > rankDropout).to(delta.dtype).to(delta.device);
                if (scaleRank) keep = keep / keep.mean();
                delta = delta * keep.view(-1, 1);
            }
            result = result + nn.functional.linear(input, delta.to(input.dtype));
        }
        return result.to(input.dtype);
    }

    /// <inheritdoc />
    protected override void MergeInto(string adapter) => AddToWeight(Delta(adapter));

    /// <inheritdoc />
    protected override void UnmergeFrom(string adapter) => AddToWeight(Delta(adapter), -1);
}
