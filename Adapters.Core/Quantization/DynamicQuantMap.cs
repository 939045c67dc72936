using static TorchSharp.torch;

namespace Adapters.Core.Quantization;

/// <summary>
/// bitsandbytes' signed dynamic 8-bit map (<c>create_dynamic_map(signed=True)</c>), the code double quantization
/// stores absmax values in: for exponent steps 10^-6 … 10^0, 2^i fraction levels at the midpoints of an even split
/// of [0.1, 1], each with both signs, plus 0 and 1, sorted; 256 values. Built with the same float32 tensor ops
/// (linspace, midpoint, scalar multiply) in the libtorch TorchSharp ships, so every entry is the float32 value
/// bitsandbytes computes under the same PyTorch build.
/// </summary>
/// <remarks>
/// PyTorch's float32 <c>linspace</c> is not the same everywhere: its vectorised kernel rounds a few points one ulp
/// apart across versions and CPU instruction sets (PyTorch 1.13 on Debian differs from libtorch 2.x here in 15 of
/// the 65 points of the finest step). bitsandbytes therefore stores the map beside every double-quantized weight
/// (<c>nested_quant_map</c>), and dequantization always uses the stored map, so loading is exact whichever map wrote it.
/// </remarks>
internal static class DynamicQuantMap
{
    private const int ExponentSteps = 7;
    private static readonly Lazy<float[]> s_values = new(Build);

    // Python's 10 ** (i - 6) for i = 0..6, as doubles.
    private static readonly double[] s_scales = [1e-06, 1e-05, 0.0001, 0.001, 0.01, 0.1, 1.0];

    /// <summary>The 256 values in index order (ascending).</summary>
    public static float[] Values => (float[])s_values.Value.Clone();

    /// <summary>The map as a float32 tensor on <paramref name="device"/>.</summary>
    public static Tensor Tensor(Device device) => tensor(s_values.Value, ScalarType.Float32, device);

    private static float[] Build()
    {
        using var scope = NewDisposeScope();
        var data = new List<double>();
        for (var i = 0; i < ExponentSteps; i++)
        {
            var levels = (1 << i) + 1;
            var boundaries = linspace(0.1, 1.0, levels, ScalarType.Float32);
            var means = (boundaries.slice(0, 0, levels - 1, 1) + boundaries.slice(0, 1, levels, 1)) / 2.0;
            var scale = s_scales[i];
            data.AddRange((means * scale).data<float>().ToArray().Select(v => (double)v));
            data.AddRange((means * -scale).data<float>().ToArray().Select(v => (double)v));
        }
        data.Add(0.0);
        data.Add(1.0);
        if (data.Count != 256) throw new InvalidOperationException($"The dynamic map has {data.Count} values, not 256.");
        data.Sort();
        return data.Select(v => (float)v).ToArray();
    }
}
