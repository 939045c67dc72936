using System.Buffers.Binary;

namespace Adapters.Hub.Xet;

/// <summary>
/// The 8-byte header before each chunk in a xorb: version (1 byte, 0), compressed length (3 bytes little-endian),
/// compression scheme (1 byte), uncompressed length (3 bytes little-endian).
/// </summary>
/// <param name="Version">Header version; only 0 is defined.</param>
/// <param name="CompressedLength">Bytes of chunk data that follow the header.</param>
/// <param name="Scheme">How those bytes are compressed.</param>
/// <param name="UncompressedLength">The chunk's length once decompressed.</param>
public readonly record struct XorbChunkHeader(byte Version, int CompressedLength, XetCompressionScheme Scheme, int UncompressedLength)
{
    /// <summary>Serialised size of a header.</summary>
    public const int Size = 8;

    /// <summary>The only header version the specification defines.</summary>
    public const byte CurrentVersion = 0;

    /// <summary>Writes the header to the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        if (CompressedLength is < 0 or > 0xFF_FFFF || UncompressedLength is < 0 or > 0xFF_FFFF)
            throw new InvalidOperationException("Xorb chunk lengths must fit in 3 bytes.");
        Span<byte> word = stackalloc byte[4];
        destination[0] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(word, CompressedLength);
        word[..3].CopyTo(destination[1..4]);
        destination[4] = (byte)Scheme;
        BinaryPrimitives.WriteInt32LittleEndian(word, UncompressedLength);
        word[..3].CopyTo(destination[5..8]);
    }

    /// <summary>Reads a header without judging it; <see cref="XorbReader"/> checks it against its limits.</summary>
    public static XorbChunkHeader Read(ReadOnlySpan<byte> source) => new(
        source[0],
        source[1] | (source[2] << 8) | (source[3] << 16),
        (XetCompressionScheme)source[4],
        source[5] | (source[6] << 8) | (source[7] << 16));
}
