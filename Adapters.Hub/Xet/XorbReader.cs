namespace Adapters.Hub.Xet;

/// <summary>Parses a serialised xorb (or a byte range of one that starts at a chunk header) back into chunks.</summary>
public static class XorbReader
{
    // A full xorb object may end with a metadata footer that starts with this identifier; chunk data stops there.
    private static ReadOnlySpan<byte> FooterIdent => "XETBLOB"u8;

    /// <summary>
    /// The decompressed chunks of <paramref name="xorb"/>, in order. <paramref name="source"/> names the xorb in
    /// errors. Every header is checked against <paramref name="limits"/> before its data is touched.
    /// </summary>
    public static List<byte[]> ReadChunks(ReadOnlySpan<byte> xorb, string source, XorbLimits? limits = null)
    {
        limits ??= XorbLimits.Default;
        if (xorb.Length > limits.MaxSerializedBytes)
            throw new XetFormatException($"{source}: xorb of {xorb.Length} bytes exceeds the limit of {limits.MaxSerializedBytes}.");
        var chunks = new List<byte[]>();
        var offset = 0;
        while (offset < xorb.Length)
        {
            var rest = xorb[offset..];
            if (rest.Length >= FooterIdent.Length && rest[..FooterIdent.Length].SequenceEqual(FooterIdent)) break;
            var context = $"{source}: chunk {chunks.Count} at byte {offset}";
            if (rest.Length < XorbChunkHeader.Size)
                throw new XetFormatException($"{context}: {rest.Length} trailing bytes are too few for an {XorbChunkHeader.Size}-byte chunk header.");
            if (chunks.Count == limits.MaxChunks)
                throw new XetFormatException($"{source}: more than {limits.MaxChunks} chunks.");
            var header = XorbChunkHeader.Read(rest);
            Validate(header, limits, context);
            if (rest.Length - XorbChunkHeader.Size < header.CompressedLength)
                throw new XetFormatException($"{context}: header declares {header.CompressedLength} stored bytes but only {rest.Length - XorbChunkHeader.Size} remain.");
            var stored = rest.Slice(XorbChunkHeader.Size, header.CompressedLength);
            chunks.Add(XetChunkCompression.Decompress(header.Scheme, stored, header.UncompressedLength, context));
            offset += XorbChunkHeader.Size + header.CompressedLength;
        }
        return chunks;
    }

    /// <summary>
    /// Parses a whole xorb and checks that its chunks hash to <paramref name="expectedHash"/>; throws
    /// <see cref="IntegrityException"/> naming both hashes otherwise.
    /// </summary>
    public static List<byte[]> ReadVerified(ReadOnlySpan<byte> xorb, XetHash expectedHash, XorbLimits? limits = null)
    {
        var source = $"xorb {expectedHash}";
        var chunks = ReadChunks(xorb, source, limits);
        var infos = new List<XetChunkInfo>(chunks.Count);
        foreach (var chunk in chunks) infos.Add(new XetChunkInfo(XetHashing.ChunkHash(chunk), chunk.Length));
        var actual = XetHashing.XorbHash(infos);
        if (actual != expectedHash)
            throw new IntegrityException($"{source}: its chunks hash to {actual}.", expectedHash.ToString(), actual.ToString()) { IsHashMismatch = true };
        return chunks;
    }

    private static void Validate(XorbChunkHeader header, XorbLimits limits, string context)
    {
        if (header.Version != XorbChunkHeader.CurrentVersion)
            throw new XetFormatException($"{context}: header version {header.Version}; only {XorbChunkHeader.CurrentVersion} is defined.");
        if (!Enum.IsDefined(header.Scheme))
            throw new XetFormatException($"{context}: compression scheme {(byte)header.Scheme} is not one of 0 (none), 1 (LZ4), 2 (byte-grouping-4 + LZ4).");
        if (header.UncompressedLength > limits.MaxChunkLength)
            throw new XetFormatException($"{context}: uncompressed length {header.UncompressedLength} exceeds the limit of {limits.MaxChunkLength}.");
        if (header.CompressedLength > limits.MaxStoredChunkLength)
            throw new XetFormatException($"{context}: stored length {header.CompressedLength} exceeds the limit of {limits.MaxStoredChunkLength}.");
    }
}
