namespace Adapters.Hub.Xet;

/// <summary>Serialises chunks into the xorb format: for each chunk, its 8-byte header then its stored bytes.</summary>
public static class XorbWriter
{
    /// <summary>
    /// Serialises <paramref name="chunks"/> in order, compressing each with <paramref name="scheme"/> unless that
    /// does not make it smaller (then the chunk is stored with <see cref="XetCompressionScheme.None"/>, as the
    /// reference encoder does).
    /// </summary>
    public static byte[] Serialize(IReadOnlyList<ReadOnlyMemory<byte>> chunks, XetCompressionScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        using var output = new MemoryStream();
        Span<byte> header = stackalloc byte[XorbChunkHeader.Size];
        foreach (var chunk in chunks)
        {
            if (chunk.Length > XetChunker.MaximumChunkSize)
                throw new ArgumentException($"A xorb chunk holds at most {XetChunker.MaximumChunkSize} bytes; got {chunk.Length}.", nameof(chunks));
            var stored = XetChunkCompression.Compress(scheme, chunk.Span);
            var storedScheme = scheme;
            if (stored.Length >= chunk.Length)
            {
                stored = chunk.ToArray();
                storedScheme = XetCompressionScheme.None;
            }
            new XorbChunkHeader(XorbChunkHeader.CurrentVersion, stored.Length, storedScheme, chunk.Length).WriteTo(header);
            output.Write(header);
            output.Write(stored);
        }
        return output.ToArray();
    }
}
