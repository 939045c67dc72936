namespace Adapters.Core.Quantization;

/// <summary>
/// How base weights are quantized to 4 bits: transformers' <c>BitsAndBytesConfig(load_in_4bit=True, …)</c> with
/// its defaults for the block size and our default of double quantization on (QLoRA's setting).
/// </summary>
/// <param name="Type">NF4 or FP4 (<c>bnb_4bit_quant_type</c>).</param>
/// <param name="Blocksize">Weights per absmax block (32 … 4096, a power of two; 64 as transformers uses).</param>
/// <param name="DoubleQuant">
/// Quantize the absmax values again, 8-bit in blocks of 256 around their mean (<c>bnb_4bit_use_double_quant</c>).
/// </param>
public sealed record FourBitOptions(FourBitType Type = FourBitType.Nf4, int Blocksize = 64, bool DoubleQuant = true)
{
    /// <summary>NF4 with double quantization, blocks of 64: the QLoRA setting.</summary>
    public static FourBitOptions Nf4 { get; } = new();

    /// <summary>FP4 with double quantization, blocks of 64.</summary>
    public static FourBitOptions Fp4 { get; } = new(FourBitType.Fp4);

    /// <summary>The block sizes bitsandbytes accepts.</summary>
    public static IReadOnlyList<int> ValidBlocksizes { get; } = [32, 64, 128, 256, 512, 1024, 2048, 4096];

    /// <summary>Checks <see cref="Blocksize"/>.</summary>
    /// <exception cref="ArgumentException">The block size is not one bitsandbytes accepts.</exception>
    public FourBitOptions Validate()
    {
        if (!ValidBlocksizes.Contains(Blocksize))
            throw new ArgumentException($"4-bit blocksize {Blocksize} is not supported; expected one of {string.Join(", ", ValidBlocksizes)}.");
        return this;
    }
}
