using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Serialization;

/// <summary>Moves little-endian tensor bytes into and out of TorchSharp tensors without intermediate copies.</summary>
internal static class TorchBridge
{
    /// <summary>Largest span handed to TorchSharp at once (its byte spans are int-indexed).</summary>
    private const long ChunkBytes = 1L << 30;

    /// <summary>Fills a region of a new tensor: (byte offset within the tensor, destination span).</summary>
    public delegate void Filler(long byteOffset, Span<byte> destination);

    /// <summary>
    /// Allocates a CPU tensor of <paramref name="dtype"/>'s carrier type and lets <paramref name="fill"/> write its
    /// bytes. Sub-byte types (F4, F6) come back as a flat byte tensor of the packed bytes.
    /// </summary>
    public static Tensor Allocate(TensorDType dtype, long[] shape, long byteLength, Filler fill)
    {
        TorchRuntime.Initialize();
        var carrier = dtype.CarrierScalarType();
        var elementSize = ElementSize(carrier);
        var subByte = dtype.BitSize() < 8;
        var numel = byteLength / elementSize;
        var flat = torch.empty([numel], carrier);
        try
        {
            if (numel > 0)
            {
                var perChunk = Math.Max(1, ChunkBytes / elementSize);
                for (long start = 0; start < numel; start += perChunk)
                {
                    var count = Math.Min(perChunk, numel - start);
                    if (start == 0 && count == numel)
                    {
                        fill(0, flat.bytes);
                    }
                    else
                    {
                        using var part = flat.narrow(0, start, count);
                        fill(start * elementSize, part.bytes);
                    }
                }
            }
            if (subByte || (shape.Length == 1 && shape[0] == numel)) return flat;
            var shaped = flat.reshape(shape);
            flat.Dispose();
            return shaped;
        }
        catch
        {
            flat.Dispose();
            throw;
        }
    }

    /// <summary>Creates a tensor from the bytes at <paramref name="offset"/> in <paramref name="source"/>.</summary>
    public static Tensor FromSource(ByteSource source, long offset, TensorDType dtype, long[] shape, long byteLength) =>
        Allocate(dtype, shape, byteLength, (at, span) => source.Read(offset + at, span));

    /// <summary>One tensor to create from a byte source.</summary>
    public readonly record struct SourceRequest(TensorDType DType, long[] Shape, long ByteLength, ByteSource Source, long Offset);

    /// <summary>Bytes per parallel work item when loading many tensors.</summary>
    private const long WorkItemBytes = 32L << 20;

    /// <summary>
    /// Creates many tensors at once, copying their bytes on all cores (page faults on fresh memory dominate a
    /// bulk load, and they scale with threads).
    /// </summary>
    public static Tensor[] FromSources(IReadOnlyList<SourceRequest> requests)
    {
        TorchRuntime.Initialize();
        var flats = new Tensor?[requests.Count];
        try
        {
            var work = new List<(int Index, long Start, long Count, int ElementSize)>();
            for (var i = 0; i < requests.Count; i++)
            {
                var r = requests[i];
                var carrier = r.DType.CarrierScalarType();
                var elementSize = ElementSize(carrier);
                var numel = r.ByteLength / elementSize;
                flats[i] = torch.empty([numel], carrier);
                var perItem = Math.Max(1, WorkItemBytes / elementSize);
                for (long start = 0; start < numel; start += perItem) work.Add((i, start, Math.Min(perItem, numel - start), elementSize));
            }
            Parallel.For(0, work.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, w =>
            {
                var (index, start, count, elementSize) = work[w];
                var r = requests[index];
                using var part = flats[index]!.narrow(0, start, count);
                r.Source.Read(r.Offset + start * elementSize, part.bytes);
            });
            var result = new Tensor[requests.Count];
            for (var i = 0; i < requests.Count; i++)
            {
                var r = requests[i];
                var flat = flats[i]!;
                if (r.DType.BitSize() < 8 || (r.Shape.Length == 1 && r.Shape[0] == flat.numel()))
                {
                    result[i] = flat;
                }
                else
                {
                    result[i] = flat.reshape(r.Shape);
                    flat.Dispose();
                }
                flats[i] = null;
            }
            return result;
        }
        catch
        {
            foreach (var f in flats) f?.Dispose();
            throw;
        }
    }

    /// <summary>Creates a tensor from contiguous little-endian bytes.</summary>
    public static Tensor FromBytes(ReadOnlyMemory<byte> data, TensorDType dtype, long[] shape) =>
        Allocate(dtype, shape, data.Length, (at, span) => data.Span.Slice((int)at, span.Length).CopyTo(span));

    /// <summary>Streams a tensor's values as contiguous row-major little-endian bytes, in chunks.</summary>
    public static void CopyOut(Tensor tensor, Action<ReadOnlySpan<byte>> sink)
    {
        using var cpu = tensor.device_type == DeviceType.CPU ? tensor.alias() : tensor.cpu();
        using var contiguous = cpu.contiguous();
        using var flat = contiguous.reshape(-1);
        var numel = flat.numel();
        if (numel == 0) return;
        var elementSize = flat.element_size();
        var perChunk = Math.Max(1, ChunkBytes / elementSize);
        for (long start = 0; start < numel; start += perChunk)
        {
            var count = Math.Min(perChunk, numel - start);
            if (start == 0 && count == numel)
            {
                sink(flat.bytes);
            }
            else
            {
                using var part = flat.narrow(0, start, count);
                sink(part.bytes);
            }
        }
    }

    /// <summary>Bytes per element of a TorchSharp type.</summary>
    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Bool or ScalarType.Byte or ScalarType.Int8 => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => throw new NotSupportedException($"TorchSharp type {type} is not supported in tensor files."),
    };
}
