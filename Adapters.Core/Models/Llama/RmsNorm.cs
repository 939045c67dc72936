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

    /// <summary>Creates the norm with weight ones.</summary>
    public RmsNorm(long size, double eps, Device? device = null, ScalarType? dtype = null) : base(nameof(RmsNorm))
    {
        _eps = eps;
        weight = new Parameter(ones([size], dtype, device));
        register_parameter("weight", weight);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The learned scale.</summary>
    public Parameter weight { get; }

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
