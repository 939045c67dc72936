using Adapters.Core.Conversion;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Llama;

/// <summary>
/// transformers' <c>LlamaRMSNorm</c>: <c>weight · (x / sqrt(mean(x²) + eps))</c>, the statistics taken in float32 and
/// the normalised value cast back to the input dtype before the weight multiplies it.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly double _eps;
    private Parameter _weight;

    /// <summary>Creates the norm with weight ones.</summary>
    public RmsNorm(long size, double eps, Device? device = null, ScalarType? dtype = null) : base(nameof(RmsNorm))
    {
        _eps = eps;
        _weight = new Parameter(ones([size], dtype, device));
        register_parameter("weight", _weight);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The learned scale; settable (same shape) so that <c>Module.to</c> can swap in a converted tensor.</summary>
    /// <exception cref="ArgumentException">The new tensor's shape differs.</exception>
    public Parameter weight
    {
        get => _weight;
        set => _weight = ParameterReplacement.Replace(nameof(RmsNorm), nameof(weight), _weight, value, p => ConditionallyRegisterParameter(nameof(weight), p));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input.to(ScalarType.Float32);
        var variance = x.pow(2).mean([-1], keepdim: true);
        x = x * rsqrt(variance + _eps);
        return (weight * x.to(input.dtype)).MoveToOuterDisposeScope();
    }
}
