using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Quantization;

/// <summary>
/// Blockwise absmax quantization onto a code table, with the tensor ops and type promotions of bitsandbytes'
/// PyTorch kernels (<c>backends/default/ops.py</c>), so indexes and absmax values come out bit for bit the same:
/// per block <c>absmax = max |x|</c> (float32), <c>x * (1 / absmax)</c> clamped to [-1, 1] (full blocks scale in
/// float32; a trailing partial block scales in the input dtype, as a 0-dim absmax does in PyTorch), and each value
/// takes the first index of the nearest code value. An all-zero block has absmax 0; it scales to NaN and takes
/// index 0, as <c>argmin</c> over NaN does.
/// </summary>
internal static class BlockwiseCodes
{
    // Rows of the |x - code| matrix per argmin call: bounds the temporary to ~64 MiB for a 256-entry code.
    private const long ChunkElements = 1 << 16;

    /// <summary>Quantizes flattened <paramref name="values"/> (f32/bf16/f16) in blocks of <paramref name="blocksize"/>.</summary>
    /// <param name="values">The values, any shape; read flattened in row-major order.</param>
    /// <param name="code">The float32 code table the values are matched to.</param>
    /// <param name="blocksize">Elements per absmax block.</param>
    /// <param name="padToEven">Append one 0.0 to an odd count of scaled values (4-bit packing pairs them).</param>
    /// <returns>The code indexes (int64, one per value plus any pad) and the float32 absmax per block.</returns>
    public static (Tensor Indexes, Tensor Absmax) Quantize(Tensor values, Tensor code, long blocksize, bool padToEven)
    {
        using var scope = NewDisposeScope();
        var flat = values.reshape(-1);
        var n = flat.numel();
        var full = n / blocksize;
        var rem = n % blocksize;
        var absmax = zeros(full + (rem > 0 ? 1 : 0), ScalarType.Float32, values.device);
        var parts = new List<Tensor>();
        if (full > 0)
        {
            var blocks = flat.slice(0, 0, n - rem, 1).reshape(full, blocksize);
            absmax.slice(0, 0, full, 1).copy_(blocks.abs().amax([-1L]));
            var inverse = absmax.slice(0, 0, full, 1).reciprocal().view(-1, 1);
            parts.Add((blocks * inverse).clamp(-1.0, 1.0).reshape(-1));
        }
        if (rem > 0)
        {
            var tail = flat.slice(0, n - rem, n, 1);
            absmax[-1] = tail.abs().max();
            parts.Add((tail * absmax[-1].reciprocal()).clamp(-1.0, 1.0));
        }
        var scaled = parts.Count == 1 ? parts[0] : cat(parts.ToArray(), 0);
        if (padToEven && scaled.numel() % 2 != 0) scaled = nn.functional.pad(scaled, [0, 1], value: 0.0);
        var table = code.to(scaled.dtype, scaled.device);
        var indexes = empty(scaled.numel(), ScalarType.Int64, scaled.device);
        var rows = Math.Max(1, ChunkElements * 16 / code.numel());
        for (long start = 0; start < scaled.numel(); start += rows)
        {
            var end = Math.Min(scaled.numel(), start + rows);
            using var chunk = scaled.slice(0, start, end, 1).unsqueeze(-1);
            using var distance = (chunk - table).abs_();
            indexes.slice(0, start, end, 1).copy_(distance.argmin(-1));
        }
        return (indexes.MoveToOuterDisposeScope(), absmax.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// <c>code[index] * absmax[block]</c> in float32 for <paramref name="count"/> values (bitsandbytes' 8-bit
    /// <c>dequantize_blockwise</c>: the last block may be partial).
    /// </summary>
    public static Tensor Dequantize(Tensor indexes, Tensor absmax, Tensor code, long blocksize, long count)
    {
        using var scope = NewDisposeScope();
        var values = code.to(ScalarType.Float32, indexes.device)[indexes.reshape(-1).to(ScalarType.Int64)];
        var padded = (count + blocksize - 1) / blocksize * blocksize;
        if (padded != count) values = nn.functional.pad(values, [0, padded - count], value: 0.0);
        var result = (values.view(-1, blocksize) * absmax.view(-1, 1)).reshape(-1).slice(0, 0, count, 1);
        return result.contiguous().MoveToOuterDisposeScope();
    }
}
