using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods;

/// <summary>
/// Activation functions by the names transformers' <c>get_activation</c> uses (lower-cased):
/// <c>gelu</c> is the exact erf form, <c>gelu_new</c> the tanh approximation, <c>swish</c>/<c>silu</c> SiLU and
/// <c>leakyrelu</c> slope 0.01; null gives the identity, as in the adapters library.
/// </summary>
public static class Activation
{
    /// <summary>The activation named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is not one transformers knows.</exception>
    public static Func<Tensor, Tensor> Get(string? name)
    {
        if (name is null) return x => x.alias();
        return name.ToLowerInvariant() switch
        {
            "relu" => x => nn.functional.relu(x),
            "gelu" or "gelu_orig" or "gelu_python" => x => nn.functional.gelu(x),
            "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => GeluTanh,
            "swish" or "silu" => x => nn.functional.silu(x),
            "tanh" => torch.tanh,
            "sigmoid" => torch.sigmoid,
            "leakyrelu" => x => nn.functional.leaky_relu(x, 0.01),
            "linear" => x => x.alias(),
            "quick_gelu" => x => x * torch.sigmoid(1.702 * x),
            "mish" => x => nn.functional.mish(x),
            _ => throw new ArgumentException($"Unknown activation \"{name}\"; expected a transformers activation name such as relu, gelu, gelu_new or swish.", nameof(name)),
        };
    }

    private static Tensor GeluTanh(Tensor x)
    {
        using var scope = NewDisposeScope();
        var inner = Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3));
        return (0.5 * x * (1.0 + torch.tanh(inner))).MoveToOuterDisposeScope();
    }
}
