using Adapters.Core.Methods.Bottleneck;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.Invertible;

/// <summary>
/// The GLOW invertible adapter (<c>inv_adapter="glow"</c>): with <c>x = [x1 | x2]</c> split at half the width and
/// <c>e(s) = exp(clamp · 0.636 · atan(s / clamp))</c>, clamp 5, the forward direction is
/// <c>[s2 | t2] = s2(x2)</c>, <c>y1 = e(s2) ⊙ x1 + t2</c>, <c>[s1 | t1] = s1(y1)</c>, <c>y2 = e(s1) ⊙ x2 + t1</c>.
/// The subnetworks are <c>s1</c> = Linear(H1, H1/rf) → act → Linear(H1/rf, 2·H2) and <c>s2</c> = Linear(H2, H2/rf) → act →
/// Linear(H2/rf, 2·H1), stored as <c>s1.0</c>/<c>s1.2</c>/<c>s2.0</c>/<c>s2.2</c> with the bert init, as in Python's
/// <c>GLOWCouplingBlock</c>, so names, shapes and counts match.
/// </summary>
/// <remarks>
/// Python's forward direction cannot run on (B, S, H) inputs: it slices the subnetwork output on axis 1 (the sequence
/// axis) instead of the feature axis, so <c>e(s1)</c> has width 2·H2 against <c>x2</c>'s H2 and broadcasting fails; it
/// also replaces <c>s2(x2)</c> by <c>(x1, x2)</c> and returns a list. Its <em>reverse</em> direction, read with feature-axis
/// slicing, is the standard GLOW coupling inverse, and this class implements the forward direction that this reverse
/// inverts (the FrEIA GLOW coupling the Python code was adapted from), with all slicing on the last axis.
/// </remarks>
public sealed class GlowCouplingBlock : InvertibleAdapter
{
    private const double Clamp = 5.0;
    private readonly int _split1;
    private readonly int _split2;
    private readonly Linear _s1In;
    private readonly Linear _s1Out;
    private readonly Linear _s2In;
    private readonly Linear _s2Out;
    private readonly Func<Tensor, Tensor> _activation;

    /// <summary>Creates the block for width <paramref name="hiddenSize"/>.</summary>
    public GlowCouplingBlock(int hiddenSize, double reductionFactor, string nonLinearity, Device? device, ScalarType? dtype)
        : base(nameof(GlowCouplingBlock))
    {
        _split1 = hiddenSize / 2;
        _split2 = hiddenSize - _split1;
        _activation = Activation.Get(nonLinearity);
        var s1Hidden = (int)Math.Floor(_split1 / reductionFactor);
        var s2Hidden = (int)Math.Floor(_split2 / reductionFactor);
        _s1In = nn.Linear(_split1, s1Hidden, true, device, dtype);
        _s1Out = nn.Linear(s1Hidden, 2 * _split2, true, device, dtype);
        _s2In = nn.Linear(_split2, s2Hidden, true, device, dtype);
        _s2Out = nn.Linear(s2Hidden, 2 * _split1, true, device, dtype);
        foreach (var linear in new[] { _s1In, _s1Out, _s2In, _s2Out }) WeightInit.Bert(linear);
        register_module("s1", new IndexedModule((0, _s1In), (2, _s1Out)));
        register_module("s2", new IndexedModule((0, _s2In), (2, _s2Out)));
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var (x1, x2) = Split(x);
        var (scale2, shift2) = Subnet(_s2In, _s2Out, x2, _split1);
        var y1 = Exp(scale2) * x1 + shift2;
        var (scale1, shift1) = Subnet(_s1In, _s1Out, y1, _split2);
        var y2 = Exp(scale1) * x2 + shift1;
        return cat([y1, y2], x.dim() - 1);
    }

    /// <inheritdoc />
    public override Tensor Inverse(Tensor y)
    {
        ArgumentNullException.ThrowIfNull(y);
        var (y1, y2) = Split(y);
        var (scale1, shift1) = Subnet(_s1In, _s1Out, y1, _split2);
        var x2 = (y2 - shift1) / Exp(scale1);
        var (scale2, shift2) = Subnet(_s2In, _s2Out, x2, _split1);
        var x1 = (y1 - shift2) / Exp(scale2);
        return cat([x1, x2], y.dim() - 1);
    }

    private (Tensor First, Tensor Second) Split(Tensor x)
    {
        var last = x.dim() - 1;
        return (x.narrow(last, 0, _split1), x.narrow(last, _split1, x.shape[last] - _split1));
    }

    private (Tensor Scale, Tensor Shift) Subnet(Linear input, Linear output, Tensor x, int width)
    {
        var r = output.call(_activation(input.call(x)));
        var last = r.dim() - 1;
        return (r.narrow(last, 0, width), r.narrow(last, width, width));
    }

    private static Tensor Exp(Tensor s) => exp(Clamp * 0.636 * atan(s / Clamp));
}
