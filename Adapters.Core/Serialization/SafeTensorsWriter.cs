using System.Buffers.Binary;
using System.Text;

namespace Adapters.Core.Serialization;

/// <summary>
/// Writes safetensors exactly as the Python <c>safetensors</c> package does: tensors sorted by dtype (largest
/// alignment first) then by name, compact JSON, the header padded with spaces to a multiple of 8.
/// </summary>
public static class SafeTensorsWriter
{
    /// <summary>The metadata <c>transformers</c> and <c>adapters</c> write: <c>{"format":"pt"}</c>.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> DefaultMetadata { get; } = [new("format", "pt")];

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> (temporary file, then rename).
    /// <paramref name="metadata"/> null writes no <c>__metadata__</c>; pass <see cref="DefaultMetadata"/> for Python's default.
    /// </summary>
    public static void Save(string path, IEnumerable<TensorPayload> tensors, IReadOnlyList<KeyValuePair<string, string>>? metadata)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (header, ordered) = Prepare(tensors, metadata);
        AtomicFile.Write(path, stream =>
        {
            long total = 8 + header.Length + ordered.Sum(t => t.Spec.ByteLength);
            stream.SetLength(total);
            WriteAll(stream, header, ordered);
        });
    }

    /// <summary>Serializes to bytes in memory.</summary>
    public static byte[] Serialize(IEnumerable<TensorPayload> tensors, IReadOnlyList<KeyValuePair<string, string>>? metadata)
    {
        var (header, ordered) = Prepare(tensors, metadata);
        var stream = new MemoryStream();
        WriteAll(stream, header, ordered);
        return stream.ToArray();
    }

    /// <summary>The padded header bytes and the tensors in file order.</summary>
    internal static (byte[] Header, List<TensorPayload> Ordered) Prepare(IEnumerable<TensorPayload> tensors, IReadOnlyList<KeyValuePair<string, string>>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in list)
        {
            if (!names.Add(t.Spec.Name)) throw new ArgumentException($"duplicate tensor name '{t.Spec.Name}'", nameof(tensors));
            if (t.Spec.DType.SafetensorsName() is null) throw new ArgumentException($"tensor '{t.Spec.Name}': safetensors has no {t.Spec.DType.TorchName()} type", nameof(tensors));
            if (t.Spec.Name == "__metadata__") throw new ArgumentException("a tensor cannot be named __metadata__", nameof(tensors));
        }
        var sorted = list.Select(t => (Payload: t, Key: Encoding.UTF8.GetBytes(t.Spec.Name))).ToList();
        sorted.Sort((a, b) =>
        {
            var byType = b.Payload.Spec.DType.CompareTo(a.Payload.Spec.DType);
            return byType != 0 ? byType : a.Key.AsSpan().SequenceCompareTo(b.Key);
        });
        var ordered = sorted.Select(s => s.Payload).ToList();

        var sb = new StringBuilder();
        sb.Append('{');
        var first = true;
        if (metadata is not null)
        {
            sb.Append("\"__metadata__\":{");
            var firstMeta = true;
            foreach (var (k, v) in metadata)
            {
                if (!firstMeta) sb.Append(',');
                firstMeta = false;
                SafeTensorsJson.WriteString(sb, k);
                sb.Append(':');
                SafeTensorsJson.WriteString(sb, v);
            }
            sb.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var t in ordered)
        {
            if (!first) sb.Append(',');
            first = false;
            SafeTensorsJson.WriteString(sb, t.Spec.Name);
            sb.Append(":{\"dtype\":\"").Append(t.Spec.DType.SafetensorsName()).Append("\",\"shape\":[");
            sb.AppendJoin(',', t.Spec.Shape);
            sb.Append("],\"data_offsets\":[").Append(offset).Append(',');
            offset += t.Spec.ByteLength;
            sb.Append(offset).Append("]}");
        }
        sb.Append('}');
        var json = Encoding.UTF8.GetBytes(sb.ToString());
        var padded = (json.Length + 7) / 8 * 8;
        if (padded > SafeTensorsFile.MaxHeaderSize) throw new ArgumentException($"the header would be {padded} bytes, over the {SafeTensorsFile.MaxHeaderSize}-byte limit", nameof(tensors));
        var header = new byte[padded];
        json.CopyTo(header, 0);
        header.AsSpan(json.Length).Fill((byte)' ');
        return (header, ordered);
    }

    private static void WriteAll(Stream stream, byte[] header, List<TensorPayload> ordered)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (var t in ordered) t.WriteTo(chunk => stream.Write(chunk));
    }
}
