using static TorchSharp.torch;

namespace Adapters.Core.Quantization;

/// <summary>
/// The 16 code values of each 4-bit type, in index order. Two tables exist in bitsandbytes and both matter for
/// bit compatibility: the lookup table its PyTorch kernels quantize and dequantize with, and the normalised map it
/// serialises as <c>quant_map</c>. They are equal for NF4; for FP4 the kernel table rounds ±1/192 to ±0.0052.
/// </summary>
internal static class FourBitCodes
{
    // NF4: normal quantiles (create_normal_map with offset 0.9677083), as float32 literals.
    private static readonly float[] s_nf4 =
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
        -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
        0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    // FP4 as the kernels' lookup table holds it: index bit 3 is the sign, bits 2..0 the exponent/mantissa pattern.
    private static readonly float[] s_fp4Kernel =
    [
        0.0f, 0.0052f, 0.6667f, 1.0f, 0.3333f, 0.5f, 0.1667f, 0.25f,
        0.0f, -0.0052f, -0.6667f, -1.0f, -0.3333f, -0.5f, -0.1667f, -0.25f,
    ];

    // FP4 before normalisation: the bit patterns' values with exponent bias 2 (largest magnitude 12).
    private static readonly float[] s_fp4Raw = [0f, 0.0625f, 8f, 12f, 4f, 6f, 2f, 3f, -0f, -0.0625f, -8f, -12f, -4f, -6f, -2f, -3f];

    /// <summary>The table quantization searches and dequantization indexes, float32.</summary>
    public static float[] Kernel(FourBitType type) => type == FourBitType.Nf4 ? s_nf4 : s_fp4Kernel;

    /// <summary>The serialised <c>quant_map</c>: the raw values divided by their largest magnitude in float32.</summary>
    public static float[] QuantMap(FourBitType type)
    {
        if (type == FourBitType.Nf4) return (float[])s_nf4.Clone();
        var max = s_fp4Raw.Max(MathF.Abs);
        return s_fp4Raw.Select(v => v / max).ToArray();
    }

    /// <summary>The kernel table as a float32 tensor on <paramref name="device"/>.</summary>
    public static Tensor KernelTensor(FourBitType type, Device device) => tensor(Kernel(type), ScalarType.Float32, device);
}
