using Adapters.Core.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>
/// PEFT 0.14's <c>ia3.Linear</c>: the product <c>l</c> of the active adapters' vectors scales the output
/// (<c>y = base(x)·l</c>, bias included) or, for a feed-forward module, the input (<c>y = base(x·l)</c>).
/// </summary>
internal sealed class IA3Layer(PeftBaseLayer baseLayer, PeftAdapterState state) : PeftTunerLayer(baseLayer, state)
{
    private bool? _feedForward;

    /// <inheritdoc />
    public override string PeftType => "IA3";

    /// <inheritdoc />
    protected override void Create(string adapter, PeftConfig config, string path, Device device, ScalarType dtype)
    {
        var ff = config.Selector("feedforward_modules");
        var isFeedForward = ff is not null && (ff.Pattern is { } p
            ? System.Text.RegularExpressions.Regex.IsMatch(path, $"^(?:{p})$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1))
            : ff.Names!.Any(n => path.EndsWith(n, StringComparison.Ordinal)));
        if (_feedForward is { } known && known != isFeedForward)
            throw Refuse(path, "IA3 adapters on one layer must agree on whether it is a feed-forward module.");
        _feedForward = isFeedForward;
        long[] shape = isFeedForward ? [1, Base.InFeatures] : [Base.OutFeatures, 1];
        var init = config.Bool("init_ia3_weights", true);
        Slot("ia3_l").Add(adapter, init ? ones(shape, dtype, device) : randn(shape, dtype, device));
    }

    private Tensor Product(IEnumerable<string> adapters)
    {
        Tensor? scale = null;
        foreach (var a in adapters)
        {
            var l = Slots[0][a].flatten();
            scale = scale is null ? l : scale * l;
        }
        return scale!;
    }

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor baseOutput, IReadOnlyList<string> active)
    {
        var scale = Product(active);
        if (_feedForward == true)
        {
            var scaled = (input.to(scale.dtype) * scale).to(input.dtype);
            return Base.Linear(scaled, Base.OutInWeight);
        }
        return (baseOutput * scale).to(baseOutput.dtype);
    }

    /// <inheritdoc />
    protected override void MergeInto(string adapter)
    {
        var l = Slots[0][adapter];
        SetWeight(Base.OutInWeight * l);
        if (_feedForward != true && Base.Bias is { } bias) bias.mul_(l.flatten());
    }

    /// <inheritdoc />
    protected override void UnmergeFrom(string adapter)
    {
        var l = Slots[0][adapter] + 1e-8;
        SetWeight(Base.OutInWeight / l);
        if (_feedForward != true && Base.Bias is { } bias) bias.div_(l.flatten());
    }
}
