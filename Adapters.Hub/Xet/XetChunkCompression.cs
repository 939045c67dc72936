using K4os.Compression.LZ4.Streams;

namespace Adapters.Hub.Xet;

/// <summary>Compresses and decompresses one chunk's bytes under a <see cref="XetCompressionScheme"/>.</summary>
public static class XetChunkCompression
{
    /// <summary>The bytes that represent <paramref name="chunk"/> under <paramref name="scheme"/>.</summary>
    public static byte[] Compress(XetCompressionScheme scheme, ReadOnlySpan<byte> chunk) => scheme switch
    {
        XetCompressionScheme.None => chunk.ToArray(),
        XetCompressionScheme.Lz4 => Lz4Frame(chunk),
        XetCompressionScheme.ByteGrouping4Lz4 => Lz4Frame(ByteGrouping4.Split(chunk)),
        _ => throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Unknown Xet compression scheme."),
    };

    /// <summary>
    /// Decompresses <paramref name="data"/> that must yield exactly <paramref name="expectedLength"/> bytes;
    /// <paramref name="context"/> names the xorb and chunk in the error otherwise.
    /// </summary>
    public static byte[] Decompress(XetCompressionScheme scheme, ReadOnlySpan<byte> data, int expectedLength, string context)
    {
        switch (scheme)
        {
            case XetCompressionScheme.None:
                if (data.Length != expectedLength)
                    throw new XetFormatException($"{context}: an uncompressed chunk of {data.Length} bytes declares {expectedLength}.");
                return data.ToArray();
            case XetCompressionScheme.Lz4:
                return Lz4Unframe(data, expectedLength, context);
            case XetCompressionScheme.ByteGrouping4Lz4:
                return ByteGrouping4.Join(Lz4Unframe(data, expectedLength, context));
            default:
                throw new XetFormatException($"{context}: compression scheme {(byte)scheme} is not one of 0 (none), 1 (LZ4), 2 (byte-grouping-4 + LZ4).");
        }
    }

    private static byte[] Lz4Frame(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream(data.Length / 2 + 64);
        // Independent blocks and no checksums, the reference encoder's defaults.
        var settings = new LZ4EncoderSettings { ChainBlocks = false };
        using (var encoder = LZ4Stream.Encode(output, settings, leaveOpen: true))
            encoder.Write(data);
        return output.ToArray();
    }

    private static byte[] Lz4Unframe(ReadOnlySpan<byte> data, int expectedLength, string context)
    {
        var result = new byte[expectedLength];
        try
        {
            using var input = new MemoryStream(data.ToArray(), writable: false);
            using var decoder = LZ4Stream.Decode(input, extraMemory: 0, leaveOpen: false, interactive: false);
            var filled = 0;
            int read;
            while (filled < expectedLength && (read = decoder.Read(result, filled, expectedLength - filled)) > 0)
                filled += read;
            Span<byte> probe = stackalloc byte[1];
            if (filled != expectedLength || decoder.Read(probe) != 0)
                throw new XetFormatException($"{context}: the LZ4 frame does not decompress to the declared {expectedLength} bytes.");
        }
        catch (Exception error) when (error is InvalidDataException or IOException or ArgumentException or InvalidOperationException)
        {
            throw new XetFormatException($"{context}: the chunk is not a valid LZ4 frame ({error.Message}).", error);
        }
        return result;
    }
}
