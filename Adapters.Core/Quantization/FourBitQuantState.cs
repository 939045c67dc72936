using static TorchSharp.torch;

namespace Adapters.Core.Quantization;

/// <summary>
/// Everything besides the packed bytes that a 4-bit weight needs to be dequantized: bitsandbytes' <c>QuantState</c>.
/// Without double quantization <see cref="Absmax"/> holds the float32 absmax per block; with it, <see cref="Absmax"/>
/// holds their uint8 codes and <see cref="Nested"/> the second level (<see cref="BlockAbsmax"/> recovers the values).
/// The tensors stay float32/uint8 whatever dtype the model is converted to; only their device follows the model.
/// </summary>
public sealed class FourBitQuantState : IDisposable
{
    /// <summary>Creates the state; the tensors become owned by it.</summary>
    public FourBitQuantState(FourBitType type, int blocksize, ScalarType dtype, long[] shape, Tensor absmax, Tensor quantMap, NestedAbsmax? nested)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(absmax);
        ArgumentNullException.ThrowIfNull(quantMap);
        Type = type;
        Blocksize = blocksize;
        Dtype = dtype;
        Shape = (long[])shape.Clone();
        Absmax = absmax.DetachFromDisposeScope();
        QuantMap = quantMap.DetachFromDisposeScope();
        Nested = nested;
    }

    /// <summary>NF4 or FP4.</summary>
    public FourBitType Type { get; }

    /// <summary>Weights per absmax block.</summary>
    public int Blocksize { get; }

    /// <summary>The dtype the weight had before quantization, which dequantization returns by default.</summary>
    public ScalarType Dtype { get; }

    /// <summary>The original weight shape.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Number of weights.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Number of absmax blocks.</summary>
    public long Blocks => (Count + Blocksize - 1) / Blocksize;

    /// <summary>float32 absmax per block, or (with <see cref="Nested"/>) their uint8 codes.</summary>
    public Tensor Absmax { get; private set; }

    /// <summary>The 16-value code serialised as <c>quant_map</c>.</summary>
    public Tensor QuantMap { get; private set; }

    /// <summary>The double-quantization level, or null.</summary>
    public NestedAbsmax? Nested { get; private set; }

    /// <summary>
    /// The float32 absmax per block: stored, or <c>nested_quant_map[code] * nested_absmax[block / 256] + offset</c>
    /// in float32, as bitsandbytes recovers it.
    /// </summary>
    public Tensor BlockAbsmax()
    {
        if (Nested is not { } nested) return Absmax.alias();
        using var scope = NewDisposeScope();
        var values = BlockwiseCodes.Dequantize(Absmax, nested.Absmax, nested.QuantMap, nested.Blocksize, Absmax.numel());
        return values.add_(tensor(nested.Offset, ScalarType.Float32, values.device)).MoveToOuterDisposeScope();
    }

    /// <summary>Moves the tensors to <paramref name="device"/> (dtypes unchanged).</summary>
    public void MoveTo(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Absmax = Move(Absmax, device);
        QuantMap = Move(QuantMap, device);
        if (Nested is { } nested)
            Nested = nested with { Absmax = Move(nested.Absmax, device), QuantMap = Move(nested.QuantMap, device) };
    }

    private static Tensor Move(Tensor tensor, Device device)
    {
        if (tensor.device == device) return tensor;
        var moved = tensor.to(device).DetachFromDisposeScope();
        tensor.Dispose();
        return moved;
    }

    /// <summary>Bytes the state occupies (absmax, maps, nested level).</summary>
    public long ByteSize =>
        Absmax.numel() * Absmax.element_size() + QuantMap.numel() * QuantMap.element_size()
        + (Nested is { } n ? n.Absmax.numel() * n.Absmax.element_size() + n.QuantMap.numel() * n.QuantMap.element_size() : 0);

    /// <inheritdoc />
    public void Dispose()
    {
        Absmax.Dispose();
        QuantMap.Dispose();
        Nested?.Absmax.Dispose();
        Nested?.QuantMap.Dispose();
    }
}

/// <summary>
/// Double quantization's second level: the absmax values minus <paramref name="Offset"/> (their mean), quantized with
/// bitsandbytes' dynamic 8-bit map in blocks of <paramref name="Blocksize"/>.
/// </summary>
/// <param name="Absmax">float32 absmax per block of 256 absmax values (<c>nested_absmax</c>).</param>
/// <param name="QuantMap">The 256-value dynamic map (<c>nested_quant_map</c>).</param>
/// <param name="Offset">The mean subtracted before quantizing (<c>nested_offset</c>).</param>
/// <param name="Blocksize">Absmax values per block (<c>nested_blocksize</c>, 256).</param>
public sealed record NestedAbsmax(Tensor Absmax, Tensor QuantMap, float Offset, int Blocksize);
