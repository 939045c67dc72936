using static TorchSharp.torch;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Composition;

/// <summary>
/// Helpers for tensors of a forward pass running a <see cref="Parallel"/> setup, where some tensors already hold the
/// N·B replicated rows and others (masks, residuals computed before the first adapter) still hold B
/// (Python's <c>adjust_tensors_for_parallel</c> and <c>match_attn_matrices_for_parallel</c>).
/// </summary>
public static class ParallelBatch
{
    /// <summary>
    /// <paramref name="tensor"/> repeated along the batch axis to <paramref name="reference"/>'s batch size when it is
    /// smaller; otherwise the tensor itself.
    /// </summary>
    public static Tensor Match(Tensor reference, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(tensor);
        var target = reference.shape[0];
        var rows = tensor.shape[0];
        if (rows >= target || rows == 0) return tensor;
        return Repeat(tensor, target / rows);
    }

    /// <summary>Repeats <paramref name="tensor"/> <paramref name="copies"/> times along the batch axis.</summary>
    public static Tensor Repeat(Tensor tensor, long copies)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (copies == 1) return tensor;
        var repeats = new long[tensor.dim()];
        Array.Fill(repeats, 1L);
        repeats[0] = copies;
        return tensor.repeat(repeats);
    }

    /// <summary>Repeats each tensor along the batch axis to the largest batch among them (q, k and v of one attention).</summary>
    public static (Tensor, Tensor, Tensor) MatchAll(Tensor a, Tensor b, Tensor c)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        var largest = new[] { a, b, c }.MaxBy(t => t.shape[0])!;
        return (Match(largest, a), Match(largest, b), Match(largest, c));
    }
}
