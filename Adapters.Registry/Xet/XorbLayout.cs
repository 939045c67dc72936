using Adapters.Hub.Xet;

namespace Adapters.Registry.Xet;

/// <summary>
/// Where each chunk of a stored xorb starts (byte offsets of its headers, plus the end of the last chunk), read by
/// walking the 8-byte chunk headers of the file; what reconstruction answers need to hand out byte ranges.
/// </summary>
internal sealed record XorbLayout(long[] ChunkStarts, int[] UnpackedLengths)
{
    public int ChunkCount => UnpackedLengths.Length;

    /// <summary>The byte range (start inclusive, end exclusive) of chunks <paramref name="start"/> to <paramref name="end"/> (exclusive).</summary>
    public (long Start, long End) Bytes(int start, int end) => (ChunkStarts[start], ChunkStarts[end]);

    /// <summary>Walks the headers of the verified xorb file <paramref name="path"/> (stops at a metadata footer).</summary>
    public static XorbLayout Read(string path, string xorbHash)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.RandomAccess);
        var starts = new List<long>();
        var lengths = new List<int>();
        Span<byte> header = stackalloc byte[XorbChunkHeader.Size];
        long offset = 0;
        while (offset + XorbChunkHeader.Size <= file.Length)
        {
            file.Position = offset;
            file.ReadExactly(header);
            if (header[..7].SequenceEqual("XETBLOB"u8)) break;
            var parsed = XorbChunkHeader.Read(header);
            starts.Add(offset);
            lengths.Add(parsed.UncompressedLength);
            offset += XorbChunkHeader.Size + parsed.CompressedLength;
            if (offset > file.Length) throw new InvalidDataException($"Stored xorb {xorbHash} ends inside chunk {lengths.Count - 1}.");
        }
        starts.Add(offset);
        return new XorbLayout([.. starts], [.. lengths]);
    }
}
