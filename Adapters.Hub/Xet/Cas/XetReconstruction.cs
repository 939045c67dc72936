using System.Text.Json;

namespace Adapters.Hub.Xet.Cas;

/// <summary>One term of a reconstruction: chunks [<see cref="ChunkStart"/>, <see cref="ChunkEnd"/>) of a xorb.</summary>
/// <param name="XorbHash">The xorb.</param>
/// <param name="UnpackedLength">Bytes the chunks decompress to (checked after fetching).</param>
/// <param name="ChunkStart">First chunk index (inclusive).</param>
/// <param name="ChunkEnd">Chunk index after the last (exclusive).</param>
public sealed record XetReconstructionTerm(XetHash XorbHash, long UnpackedLength, int ChunkStart, int ChunkEnd);

/// <summary>Where to GET a range of a xorb: <see cref="Url"/> with <c>Range: bytes=ByteStart-ByteEndInclusive</c>.</summary>
/// <param name="ChunkStart">First chunk the bytes hold (the range starts at its header).</param>
/// <param name="ChunkEnd">Chunk index after the last one they hold.</param>
/// <param name="Url">The (presigned) URL.</param>
/// <param name="ByteStart">First byte of the range in the serialised xorb.</param>
/// <param name="ByteEndInclusive">Last byte of the range (inclusive, as in an HTTP Range header).</param>
public sealed record XetFetchInfo(int ChunkStart, int ChunkEnd, Uri Url, long ByteStart, long ByteEndInclusive)
{
    /// <summary>Length of the byte range.</summary>
    public long ByteLength => ByteEndInclusive - ByteStart + 1;
}

/// <summary>
/// The CAS's answer to <c>GET /v1/reconstructions/{file_hash}</c>: the terms that rebuild the file (or the
/// requested range of it) in order, and for each xorb the URLs of byte ranges that hold the terms' chunks.
/// </summary>
public sealed record XetReconstruction(long OffsetIntoFirstRange, IReadOnlyList<XetReconstructionTerm> Terms,
    IReadOnlyDictionary<XetHash, IReadOnlyList<XetFetchInfo>> FetchInfo)
{
    /// <summary>Most terms an answer may hold (a 64 GiB file of 64 KiB chunks, one term per chunk, is 1M).</summary>
    public const int MaxTerms = 1 << 20;

    /// <summary>The fetch entry of <paramref name="term"/>'s xorb whose chunk range covers the term.</summary>
    public XetFetchInfo FetchFor(XetReconstructionTerm term)
    {
        ArgumentNullException.ThrowIfNull(term);
        if (FetchInfo.TryGetValue(term.XorbHash, out var entries))
        {
            foreach (var entry in entries)
            {
                if (entry.ChunkStart <= term.ChunkStart && entry.ChunkEnd >= term.ChunkEnd) return entry;
            }
        }
        throw new XetFormatException($"The reconstruction has no fetch_info entry of xorb {term.XorbHash} covering chunks [{term.ChunkStart}, {term.ChunkEnd}).");
    }

    /// <summary>Parses and checks a reconstruction answer; <paramref name="source"/> (the URL) names it in errors.</summary>
    public static XetReconstruction Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad(source, "the answer is not a JSON object");
            var offset = root.TryGetProperty("offset_into_first_range", out var o) && o.TryGetInt64(out var off) && off >= 0
                ? off : throw Bad(source, "offset_into_first_range is missing or not a non-negative integer");
            if (!root.TryGetProperty("terms", out var termsJson) || termsJson.ValueKind != JsonValueKind.Array)
                throw Bad(source, "terms is missing or not an array");
            if (termsJson.GetArrayLength() > MaxTerms) throw Bad(source, $"{termsJson.GetArrayLength()} terms exceed the limit of {MaxTerms}");
            var terms = new List<XetReconstructionTerm>(termsJson.GetArrayLength());
            foreach (var t in termsJson.EnumerateArray())
            {
                var where = $"terms[{terms.Count}]";
                var hash = HashOf(t, "hash", source, where);
                var unpacked = t.TryGetProperty("unpacked_length", out var u) && u.TryGetInt64(out var ul) && ul > 0 && ul <= uint.MaxValue
                    ? ul : throw Bad(source, $"{where}.unpacked_length is missing or not a positive 32-bit integer");
                var (start, end) = ChunkRange(t, source, where);
                terms.Add(new XetReconstructionTerm(hash, unpacked, start, end));
            }
            if (!root.TryGetProperty("fetch_info", out var fetchJson) || fetchJson.ValueKind != JsonValueKind.Object)
                throw Bad(source, "fetch_info is missing or not an object");
            var fetch = new Dictionary<XetHash, IReadOnlyList<XetFetchInfo>>();
            var fetchCount = 0;
            foreach (var property in fetchJson.EnumerateObject())
            {
                if (!XetHash.TryParse(property.Name, out var xorb)) throw Bad(source, $"fetch_info key {Text.SafeText.Quote(property.Name)} is not a Xet hash");
                if (property.Value.ValueKind != JsonValueKind.Array) throw Bad(source, $"fetch_info[{xorb}] is not an array");
                var entries = new List<XetFetchInfo>();
                foreach (var e in property.Value.EnumerateArray())
                {
                    if (++fetchCount > MaxTerms) throw Bad(source, $"more than {MaxTerms} fetch_info entries");
                    var where = $"fetch_info[{xorb}][{entries.Count}]";
                    var (start, end) = ChunkRange(e, source, where);
                    var url = e.TryGetProperty("url", out var urlJson) && urlJson.ValueKind == JsonValueKind.String
                        && Uri.TryCreate(urlJson.GetString(), UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps)
                        ? parsed : throw Bad(source, $"{where}.url is missing or not an absolute http(s) URL");
                    if (!e.TryGetProperty("url_range", out var range) || range.ValueKind != JsonValueKind.Object
                        || !range.TryGetProperty("start", out var bs) || !bs.TryGetInt64(out var byteStart)
                        || !range.TryGetProperty("end", out var be) || !be.TryGetInt64(out var byteEnd)
                        || byteStart < 0 || byteEnd < byteStart || byteEnd - byteStart >= XorbLimits.Default.MaxSerializedBytes)
                        throw Bad(source, $"{where}.url_range is missing or not a byte range [start, end] of at most {XorbLimits.Default.MaxSerializedBytes} bytes");
                    entries.Add(new XetFetchInfo(start, end, url, byteStart, byteEnd));
                }
                fetch[xorb] = entries;
            }
            var reconstruction = new XetReconstruction(offset, terms, fetch);
            foreach (var term in terms) reconstruction.FetchFor(term);
            return reconstruction;
        }
        catch (JsonException ex)
        {
            throw new XetFormatException($"{source}: the reconstruction is not valid JSON: {ex.Message}", ex);
        }
        catch (XetFormatException ex) when (!ex.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new XetFormatException($"{source}: {ex.Message}", ex);
        }
    }

    private static XetHash HashOf(JsonElement element, string name, string source, string where) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && XetHash.TryParse(value.GetString(), out var hash)
            ? hash : throw Bad(source, $"{where}.{name} is missing or not a Xet hash");

    private static (int Start, int End) ChunkRange(JsonElement element, string source, string where)
    {
        if (element.TryGetProperty("range", out var range) && range.ValueKind == JsonValueKind.Object
            && range.TryGetProperty("start", out var s) && s.TryGetInt32(out var start)
            && range.TryGetProperty("end", out var e) && e.TryGetInt32(out var end)
            && start >= 0 && end > start)
            return (start, end);
        throw Bad(source, $"{where}.range is missing or not a chunk range [start, end) with start < end");
    }

    private static XetFormatException Bad(string source, string what) => new($"{source}: {what}.");
}
