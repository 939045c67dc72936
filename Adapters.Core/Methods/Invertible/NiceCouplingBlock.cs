using Adapters.Core.Methods.Bottleneck;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.Invertible;

/// <summary>
/// The NICE invertible adapter applied to the embedding output: with <c>x = [x1 | x2]</c> split at half the width,
/// <c>y1 = x1 + F(x2)</c> and <c>y2 = x2 + G(y1)</c>. F and G are <c>Linear → act → Linear</c>, stored as
/// <c>F.0</c>/<c>F.2</c> and <c>G.0</c>/<c>G.2</c> as in Python's <c>NICECouplingBlock</c>, with the bert init.
/// </summary>
public sealed class NiceCouplingBlock : InvertibleAdapter
{
    private readonly int _split1;
    private readonly Linear _f0;
    private readonly Linear _f2;
    private readonly Linear _g0;
    private readonly Linear _g2;
    private readonly Func<Tensor, Tensor> _activation;

    /// <summary>Creates the block for width <paramref name="hiddenSize"/>.</summary>
    public NiceCouplingBlock(int hiddenSize, double reductionFactor, string nonLinearity, Device? device, ScalarType? dtype)
        : base(nameof(NiceCouplingBlock))
    {
        _split1 = hiddenSize / 2;
        var split2 = hiddenSize - _split1;
        _activation = Activation.Get(nonLinearity);
        var fHidden = (int)Math.Floor(split2 / reductionFactor);
        var gHidden = (int)Math.Floor(_split1 / reductionFactor);
        _f0 = nn.Linear(split2, fHidden, true, device, dtype);
        _f2 = nn.Linear(fHidden, _split1, true, device, dtype);
        _g0 = nn.Linear(_split1, gHidden, true, device, dtype);
        _g2 = nn.Linear(gHidden, split2, true, device, dtype);
        foreach (var linear in new[] { _f0, _f2, _g0, _g2 }) WeightInit.Bert(linear);
        register_module("F", new IndexedModule((0, _f0), (2, _f2)));
        register_module("G", new IndexedModule((0, _g0), (2, _g2)));
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var last = x.dim() - 1;
        var x1 = x.narrow(last, 0, _split1);
        var x2 = x.narrow(last, _split1, x.shape[last] - _split1);
        var y1 = x1 + _f2.call(_activation(_f0.call(x2)));
        var y2 = x2 + _g2.call(_activation(_g0.call(y1)));
        return cat([y1, y2], last);
    }

    /// <inheritdoc />
    public override Tensor Inverse(Tensor y)
    {
        ArgumentNullException.ThrowIfNull(y);
        var last = y.dim() - 1;
        var y1 = y.narrow(last, 0, _split1);
        var y2 = y.narrow(last, _split1, y.shape[last] - _split1);
        var x2 = y2 - _g2.call(_activation(_g0.call(y1)));
        var x1 = y1 - _f2.call(_activation(_f0.call(x2)));
        return cat([x1, x2], last);
    }
}
