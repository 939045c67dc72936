using Adapters.Core.Configuration;
using static TorchSharp.torch;

namespace Adapters.Core.Methods;

/// <summary>A config's <c>dtype</c> string (Python resolves it with <c>getattr(torch, dtype)</c>) as a TorchSharp type.</summary>
internal static class AdapterDtype
{
    /// <summary>The type named <paramref name="name"/>.</summary>
    /// <exception cref="AdapterConfigException">The name is not one of Python's float types.</exception>
    public static ScalarType Parse(string name) => name switch
    {
        "float32" or "float" => ScalarType.Float32,
        "float16" or "half" => ScalarType.Float16,
        "bfloat16" => ScalarType.BFloat16,
        "float64" or "double" => ScalarType.Float64,
        _ => throw new AdapterConfigException($"Unknown dtype \"{name}\"; expected float32, float16, bfloat16 or float64."),
    };
}
