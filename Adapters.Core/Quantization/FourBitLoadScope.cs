using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Quantization;

/// <summary>
/// While open on this thread, 4-bit-capable linear layers are built without a dense weight: the weight is a
/// placeholder on the meta device (shape and dtype only, no memory) and the loader quantizes each stored tensor as
/// it reads it (<see cref="IDeferredFourBitLinear"/>), so a model loads with <c>quantization:</c> at close to its
/// 4-bit size instead of first materialising every dense projection.
/// </summary>
internal sealed class FourBitLoadScope : IDisposable
{
    [ThreadStatic] private static FourBitOptions? s_current;
    private readonly FourBitOptions? _previous;

    /// <summary>Opens the scope with <paramref name="options"/> for the layers built inside it.</summary>
    public FourBitLoadScope(FourBitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _previous = s_current;
        s_current = options.Validate();
    }

    /// <summary>The options of the innermost open scope, or null.</summary>
    public static FourBitOptions? Current => s_current;

    /// <summary>The device placeholder weights live on.</summary>
    public static Device Placeholder { get; } = new(DeviceType.META);

    /// <inheritdoc />
    public void Dispose() => s_current = _previous;
}
