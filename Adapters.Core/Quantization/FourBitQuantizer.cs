using static TorchSharp.torch;

namespace Adapters.Core.Quantization;

/// <summary>
/// Quantizes weights to bitsandbytes' 4-bit layout and back. Packed bytes hold two code indexes each, the first
/// element in the high nibble, as a uint8 tensor of shape <c>[(n + 1) / 2, 1]</c>; the scaling follows
/// bitsandbytes' PyTorch kernels op for op (see <see cref="BlockwiseCodes"/>), so packed bytes, absmax, nested
/// absmax and dequantized values match bitsandbytes' bit for bit.
/// </summary>
public static class FourBitQuantizer
{
    /// <summary>Absmax values per double-quantization block, fixed by bitsandbytes.</summary>
    public const int NestedBlocksize = 256;

    /// <summary>Quantizes <paramref name="weight"/> (f32, bf16 or f16; any shape).</summary>
    /// <returns>The packed uint8 tensor and the state that dequantizes it, both on the weight's device.</returns>
    /// <exception cref="ArgumentException">The dtype is not a 16/32-bit float, or the options are invalid.</exception>
    public static (Tensor Packed, FourBitQuantState State) Quantize(Tensor weight, FourBitOptions options) =>
        Quantize(weight, options, nestedMap: null);

    /// <summary>
    /// <see cref="Quantize(Tensor, FourBitOptions)"/> with a given 256-value map for double quantization (bitsandbytes'
    /// <c>quantize_blockwise(code=…)</c>); null takes <see cref="DynamicQuantMap"/>.
    /// </summary>
    internal static (Tensor Packed, FourBitQuantState State) Quantize(Tensor weight, FourBitOptions options, Tensor? nestedMap)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (weight.dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"4-bit quantization takes float32, bfloat16 or float16 weights, not {weight.dtype}.", nameof(weight));
        if (weight.numel() == 0) throw new ArgumentException("An empty weight cannot be quantized.", nameof(weight));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = weight.device;
        var (indexes, absmax) = BlockwiseCodes.Quantize(weight.detach(), FourBitCodes.KernelTensor(options.Type, device), options.Blocksize, padToEven: true);
        var pairs = indexes.view(-1, 2);
        var packed = (pairs.select(1, 0) * 16 + pairs.select(1, 1)).to(ScalarType.Byte).view(-1, 1);
        var quantMap = tensor(FourBitCodes.QuantMap(options.Type), ScalarType.Float32, device);
        NestedAbsmax? nested = null;
        var stored = absmax;
        if (options.DoubleQuant)
        {
            var offset = absmax.mean();
            var map = nestedMap?.to(ScalarType.Float32, device).clone() ?? DynamicQuantMap.Tensor(device);
            var (codes, nestedAbsmax) = BlockwiseCodes.Quantize(absmax - offset, map, NestedBlocksize, padToEven: false);
            stored = codes.to(ScalarType.Byte);
            nested = new NestedAbsmax(nestedAbsmax.MoveToOuterDisposeScope(), map.MoveToOuterDisposeScope(), offset.item<float>(), NestedBlocksize);
        }
        var state = new FourBitQuantState(options.Type, options.Blocksize, weight.dtype, weight.shape, stored.MoveToOuterDisposeScope(), quantMap.MoveToOuterDisposeScope(), nested);
        return (packed.MoveToOuterDisposeScope(), state);
    }

    /// <summary>
    /// Dequantizes <paramref name="packed"/> into <paramref name="dtype"/> (the state's dtype when null) in the
    /// original shape: <c>code[index]</c> cast to the dtype, times the block's absmax, as bitsandbytes computes it.
    /// </summary>
    /// <exception cref="QuantizationException">The packed size does not fit the state's shape.</exception>
    public static Tensor Dequantize(Tensor packed, FourBitQuantState state, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(packed);
        ArgumentNullException.ThrowIfNull(state);
        var target = dtype ?? state.Dtype;
        var n = state.Count;
        if (packed.numel() != (n + 1) / 2)
            throw new QuantizationException($"A 4-bit weight of shape [{string.Join(", ", state.Shape)}] packs into {(n + 1) / 2} bytes, but {packed.numel()} are stored.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // One lookup per byte: row b of the table holds (code[b >> 4], code[b & 15]) already cast to the target dtype.
        var values = PairTable(state.Type, target, packed.device).index_select(0, packed.reshape(-1).to(ScalarType.Int32))
            .reshape(-1).slice(0, 0, n, 1);
        var absmax = state.BlockAbsmax();
        var blocksize = (long)state.Blocksize;
        var rem = n % blocksize;
        var full = n / blocksize;
        var output = empty(n, target, packed.device);
        if (full > 0)
            output.slice(0, 0, n - rem, 1).copy_((values.slice(0, 0, n - rem, 1).view(-1, blocksize) * absmax.slice(0, 0, full, 1).view(-1, 1)).reshape(-1));
        if (rem > 0)
            output.slice(0, n - rem, n, 1).copy_(values.slice(0, n - rem, n, 1) * absmax[-1]);
        return output.view(state.Shape.ToArray()).MoveToOuterDisposeScope();
    }

    private static Tensor PairTable(FourBitType type, ScalarType dtype, Device device)
    {
        var code = FourBitCodes.KernelTensor(type, device).to(dtype);
        var high = arange(256, ScalarType.Int64, device).floor_divide(16);
        var low = arange(256, ScalarType.Int64, device).remainder(16);
        return stack([code[high], code[low]], 1);
    }
}
