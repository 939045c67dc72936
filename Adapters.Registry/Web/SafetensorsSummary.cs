using System.Buffers.Binary;
using System.Text.Json;

namespace Adapters.Registry.Web;

/// <summary>
/// A safetensors file's parameter summary read from its header alone (8-byte little-endian length, then a
/// JSON object of <c>name: {dtype, shape, data_offsets}</c> plus optional <c>__metadata__</c>): tensor count,
/// parameter count and the parameters per dtype. The weights themselves are never read.
/// </summary>
internal sealed record SafetensorsSummary(int Tensors, long Parameters, IReadOnlyDictionary<string, long> ParametersByDtype)
{
    /// <summary>Largest header accepted (the format's own readers refuse headers over 100 MB; adapter headers are kilobytes).</summary>
    public const long MaxHeaderBytes = 16L * 1024 * 1024;

    /// <summary>Reads the header of the file at <paramref name="path"/>, of <paramref name="fileSize"/> bytes.</summary>
    /// <exception cref="InvalidDataException">The header is truncated, too large, not JSON, or a tensor entry has no valid dtype/shape; the message names <paramref name="displayName"/>.</exception>
    public static SafetensorsSummary Read(string path, long fileSize, string displayName)
    {
        using var stream = File.OpenRead(path);
        return ReadAsync((offset, count) =>
        {
            var buffer = new byte[count];
            stream.Position = offset;
            return Task.FromResult(buffer[..stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false)]);
        }, fileSize, displayName).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Reads the header through <paramref name="readRange"/> (offset, count → at most count bytes), so a file that
    /// exists only as Xet chunks is read without being rebuilt whole.
    /// </summary>
    public static async Task<SafetensorsSummary> ReadAsync(Func<long, int, Task<byte[]>> readRange, long fileSize, string displayName)
    {
        var prefix = fileSize < 8 ? [] : await readRange(0, 8).ConfigureAwait(false);
        if (prefix.Length < 8)
        {
            throw new InvalidDataException($"{displayName}: shorter than the 8-byte safetensors header length.");
        }
        var length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length > (ulong)MaxHeaderBytes || (long)length > fileSize - 8)
        {
            throw new InvalidDataException($"{displayName}: header length {length} exceeds the file ({fileSize} bytes) or the limit of {MaxHeaderBytes} bytes.");
        }
        var header = await readRange(8, (int)length).ConfigureAwait(false);
        if (header.Length < (int)length) throw new InvalidDataException($"{displayName}: the header is truncated.");
        return Parse(header, displayName);
    }

    private static SafetensorsSummary Parse(byte[] header, string displayName)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{displayName}: the header is not JSON ({error.Message}).");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{displayName}: the header is not a JSON object.");
            }
            var tensors = 0;
            long parameters = 0;
            var byDtype = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                var count = Elements(entry, displayName, out var dtype);
                tensors++;
                parameters = count > long.MaxValue - parameters
                    ? throw new InvalidDataException($"{displayName}: more parameters than fit in 64 bits.")
                    : parameters + count;
                byDtype[dtype] = byDtype.GetValueOrDefault(dtype) + count;
            }
            return new SafetensorsSummary(tensors, parameters, byDtype);
        }
    }

    private static long Elements(JsonProperty entry, string displayName, out string dtype)
    {
        var tensor = entry.Value;
        if (tensor.ValueKind != JsonValueKind.Object
            || !tensor.TryGetProperty("dtype", out var type) || type.ValueKind != JsonValueKind.String
            || !tensor.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{displayName}: tensor '{entry.Name}' needs a string 'dtype' and an array 'shape'.");
        }
        dtype = type.GetString()!;
        long count = 1;
        foreach (var dimension in shape.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out var size) || size < 0)
            {
                throw new InvalidDataException($"{displayName}: tensor '{entry.Name}' has a shape entry that is not a non-negative integer.");
            }
            try
            {
                count = checked(count * size);
            }
            catch (OverflowException)
            {
                throw new InvalidDataException($"{displayName}: tensor '{entry.Name}' has more elements than fit in 64 bits.");
            }
        }
        return count;
    }
}
