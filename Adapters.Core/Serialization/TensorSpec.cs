namespace Adapters.Core.Serialization;

/// <summary>A tensor's name, element type and shape, as a file declares them.</summary>
public sealed class TensorSpec
{
    /// <summary>Creates a spec; the shape is copied.</summary>
    public TensorSpec(string name, TensorDType dtype, IReadOnlyList<long> shape)
    {
        Name = name;
        DType = dtype;
        Shape = [.. shape];
        ElementCount = TensorShapes.ElementCount(Shape) ?? throw new ArgumentException("shape overflows", nameof(shape));
        ByteLength = TensorShapes.ByteLength(ElementCount, dtype) ?? throw new ArgumentException("shape overflows", nameof(shape));
    }

    /// <summary>The tensor's name (a state-dict key).</summary>
    public string Name { get; }

    /// <summary>The element type as stored in the file.</summary>
    public TensorDType DType { get; }

    /// <summary>The logical shape (empty for a 0-dim tensor).</summary>
    public long[] Shape { get; }

    /// <summary>The product of the shape.</summary>
    public long ElementCount { get; }

    /// <summary>Bytes of the values when contiguous.</summary>
    public long ByteLength { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {DType.SafetensorsName() ?? DType.TorchName()} [{string.Join(", ", Shape)}]";
}

/// <summary>Overflow-checked shape arithmetic.</summary>
internal static class TensorShapes
{
    /// <summary>The product of the dims, or null on overflow or a negative dim.</summary>
    public static long? ElementCount(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) return null;
            try { n = checked(n * d); }
            catch (OverflowException) { return null; }
        }
        return n;
    }

    /// <summary>Bytes for <paramref name="elements"/> of <paramref name="dtype"/>, or null when not a whole number of bytes or on overflow.</summary>
    public static long? ByteLength(long elements, TensorDType dtype)
    {
        try
        {
            var bits = checked(elements * dtype.BitSize());
            return bits % 8 == 0 ? bits / 8 : null;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    /// <summary>Row-major strides for a shape, in elements.</summary>
    public static long[] ContiguousStrides(ReadOnlySpan<long> shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (var i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(1, shape[i]);
        }
        return strides;
    }

    /// <summary>The shape as text, <c>[2, 3]</c>.</summary>
    public static string Format(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
