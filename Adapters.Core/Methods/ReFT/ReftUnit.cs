using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.ReFT;

/// <summary>
/// One ReFT intervention (Python's <c>ReftUnit</c>): <c>learned_source</c> = Linear(H, r) (W, b) and <c>projection</c> R
/// (r × H, orthonormal rows for LoReFT). It computes <c>h' = dropout(h + (φ(W h + b) − R h)·R)</c>, leaving out
/// <c>R h</c> when the projection is not subtracted (DiReFT). Python's dropout covers the whole <c>h'</c>.
/// </summary>
public sealed class ReftUnit : nn.Module
{
    private readonly Linear _learnedSource;
    private readonly Linear? _projection;
    private readonly OrthogonalWeight? _orthogonal;
    private readonly bool _subtractProjection;
    private readonly Func<Tensor, Tensor> _activation;
    private readonly double _dropout;

    /// <summary>Creates a unit with PyTorch's default Linear init.</summary>
    public ReftUnit(int hiddenSize, int r, bool orthogonal, bool subtractProjection, string? nonLinearity, double dropout, Device? device, ScalarType? dtype)
        : base(nameof(ReftUnit))
    {
        _learnedSource = nn.Linear(hiddenSize, r, true, device, dtype);
        register_module("learned_source", _learnedSource);
        if (orthogonal)
        {
            // torch computes the orthogonal parametrization in fp32 for half types.
            var projectionType = dtype is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : dtype;
            _orthogonal = new OrthogonalWeight(hiddenSize, r, device, projectionType);
            register_module("projection", _orthogonal);
        }
        else
        {
            _projection = nn.Linear(hiddenSize, r, false, device, dtype);
            register_module("projection", _projection);
        }
        _subtractProjection = subtractProjection;
        _activation = Methods.Activation.Get(nonLinearity);
        _dropout = dropout;
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The current projection R (r × H).</summary>
    public Tensor Projection() => _orthogonal is not null ? _orthogonal.Weight() : _projection!.weight;

    /// <summary>Intervenes on states (B, n, H).</summary>
    public Tensor Forward(Tensor states)
    {
        ArgumentNullException.ThrowIfNull(states);
        var r = Projection().to(states.dtype);
        var source = _activation(_learnedSource.call(states));
        if (_subtractProjection) source = source - matmul(states, r.t());
        var adapted = states + matmul(source, r);
        return _dropout > 0 ? nn.functional.dropout(adapted, _dropout, training) : adapted;
    }
}
