using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Adapters.Hub.Xet;

namespace Adapters.Hub.Tests.Xet;

/// <summary>Xorb serialisation, the compression schemes, and the parser's limits on hostile input.</summary>
public sealed class XorbFormatTests
{
    private static List<ReadOnlyMemory<byte>> ChunksOf(byte[] data)
    {
        var chunks = new List<ReadOnlyMemory<byte>>();
        var offset = 0;
        foreach (var length in XetChunker.ChunkLengths(data))
        {
            chunks.Add(data.AsMemory(offset, length));
            offset += length;
        }
        return chunks;
    }

    private static XetHash XorbHashOf(IEnumerable<ReadOnlyMemory<byte>> chunks) =>
        XetHashing.XorbHash(chunks.Select(c => new XetChunkInfo(XetHashing.ChunkHash(c.Span), c.Length)).ToList());

    [Theory]
    [InlineData(XetCompressionScheme.None)]
    [InlineData(XetCompressionScheme.Lz4)]
    [InlineData(XetCompressionScheme.ByteGrouping4Lz4)]
    public void ChunksRoundTripUnderEachScheme(XetCompressionScheme scheme)
    {
        var data = XetTestData.Linear(300_000, 13, 37);
        var chunks = ChunksOf(data);

        var xorb = XorbWriter.Serialize(chunks, scheme);
        var read = XorbReader.ReadVerified(xorb, XorbHashOf(chunks));

        Assert.Equal(data, read.SelectMany(c => c).ToArray());
        var first = XorbChunkHeader.Read(xorb);
        Assert.Equal(scheme, first.Scheme);
        Assert.Equal(chunks[0].Length, first.UncompressedLength);
        if (scheme != XetCompressionScheme.None)
        {
            Assert.True(first.CompressedLength < first.UncompressedLength);
            // An LZ4 frame, as the reference implementation writes, not a bare block.
            Assert.Equal(0x184D2204u, BinaryPrimitives.ReadUInt32LittleEndian(xorb.AsSpan(XorbChunkHeader.Size)));
        }
    }

    [Fact]
    public void IncompressibleChunksAreStoredUncompressed()
    {
        var data = XetTestData.SplitMix(200_000, 7);
        var chunks = ChunksOf(data);

        var xorb = XorbWriter.Serialize(chunks, XetCompressionScheme.Lz4);

        Assert.Equal(chunks.Sum(c => c.Length) + chunks.Count * XorbChunkHeader.Size, xorb.Length);
        Assert.Equal(XetCompressionScheme.None, XorbChunkHeader.Read(xorb).Scheme);
        Assert.Equal(data, XorbReader.ReadChunks(xorb, "test").SelectMany(c => c).ToArray());
    }

    [Fact]
    public void HeaderIsVersionThreeByteLengthSchemeThreeByteLength()
    {
        var bytes = new byte[XorbChunkHeader.Size];
        new XorbChunkHeader(0, 0x012345, XetCompressionScheme.ByteGrouping4Lz4, 0x020000).WriteTo(bytes);

        Assert.Equal(new byte[] { 0, 0x45, 0x23, 0x01, 2, 0x00, 0x00, 0x02 }, bytes);
        Assert.Equal(new XorbChunkHeader(0, 0x012345, XetCompressionScheme.ByteGrouping4Lz4, 0x020000), XorbChunkHeader.Read(bytes));
    }

    [Fact]
    public void ByteGroupingPutsEachPositionClassTogether()
    {
        byte[] data = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

        Assert.Equal(new byte[] { 0, 4, 8, 1, 5, 9, 2, 6, 3, 7 }, ByteGrouping4.Split(data));
        for (var length = 0; length < 12; length++)
        {
            var input = XetTestData.Linear(length, 31, 5);
            Assert.Equal(input, ByteGrouping4.Join(ByteGrouping4.Split(input)));
        }
    }

    [Fact]
    public void DecodesAFrameBuiltByHandFromTheLz4FrameSpecification()
    {
        // Magic, FLG (version 01, independent blocks), BD (64 KiB blocks), header checksum (second byte of
        // XXH32 of FLG..BD), one uncompressed block (size with the high bit set), end mark.
        var payload = "hello xet"u8.ToArray();
        var frame = new List<byte> { 0x04, 0x22, 0x4D, 0x18, 0x60, 0x40 };
        frame.Add((byte)(XxHash32.HashToUInt32(frame.GetRange(4, 2).ToArray()) >> 8));
        var blockSize = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(blockSize, 0x8000_0000u | (uint)payload.Length);
        frame.AddRange(blockSize);
        frame.AddRange(payload);
        frame.AddRange(new byte[4]);

        Assert.Equal(payload, XetChunkCompression.Decompress(XetCompressionScheme.Lz4, frame.ToArray(), payload.Length, "test"));
    }

    [Fact]
    public void ParsingStopsAtTheXorbFooter()
    {
        var chunks = ChunksOf(XetTestData.Linear(20_000, 3, 1));
        var xorb = XorbWriter.Serialize(chunks, XetCompressionScheme.Lz4).Concat(Encoding.ASCII.GetBytes("XETBLOB\u0001rest-of-footer")).ToArray();

        Assert.Equal(chunks.Count, XorbReader.ReadChunks(xorb, "test").Count);
    }

    [Fact]
    public void WrongExpectedHashIsAnIntegrityError()
    {
        var chunks = ChunksOf(XetTestData.Linear(20_000, 3, 1));
        var xorb = XorbWriter.Serialize(chunks, XetCompressionScheme.None);
        var wrong = XetHashing.ChunkHash("other"u8);

        var error = Assert.Throws<IntegrityException>(() => XorbReader.ReadVerified(xorb, wrong));
        Assert.Equal(wrong.ToString(), error.Expected);
        Assert.Equal(XorbHashOf(chunks).ToString(), error.Actual);
    }

    public static TheoryData<string, byte[], string> HostileXorbs()
    {
        byte[] Header(byte version, int stored, byte scheme, int length)
        {
            var bytes = new byte[XorbChunkHeader.Size];
            bytes[0] = version;
            bytes[1] = (byte)stored; bytes[2] = (byte)(stored >> 8); bytes[3] = (byte)(stored >> 16);
            bytes[4] = scheme;
            bytes[5] = (byte)length; bytes[6] = (byte)(length >> 8); bytes[7] = (byte)(length >> 16);
            return bytes;
        }
        return new TheoryData<string, byte[], string>
        {
            { "version", [.. Header(1, 1, 0, 1), 0], "header version 1" },
            { "scheme", [.. Header(0, 1, 7, 1), 0], "compression scheme 7" },
            { "oversized chunk", [.. Header(0, 1, 0, 200_000), 0], "uncompressed length 200000 exceeds" },
            { "oversized stored", [.. Header(0, 600_000, 1, 1), 0], "stored length 600000 exceeds" },
            { "truncated data", [.. Header(0, 10, 0, 10), 1, 2, 3], "declares 10 stored bytes but only 3 remain" },
            { "truncated header", [0, 1, 0], "3 trailing bytes are too few" },
            { "length mismatch", [.. Header(0, 2, 0, 3), 1, 2], "declares 3" },
            { "not lz4", [.. Header(0, 4, 1, 100), 1, 2, 3, 4], "not a valid LZ4 frame" },
        };
    }

    [Theory]
    [MemberData(nameof(HostileXorbs))]
    public void HostileInputIsRejectedWithATypedErrorNamingTheXorbAndChunk(string name, byte[] xorb, string expected)
    {
        var error = Assert.Throws<XetFormatException>(() => XorbReader.ReadChunks(xorb, $"xorb-{name}"));
        Assert.Contains($"xorb-{name}", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Lz4FrameThatExpandsBeyondTheDeclaredLengthIsRejected()
    {
        var frame = XetChunkCompression.Compress(XetCompressionScheme.Lz4, new byte[1000]);
        var header = new byte[XorbChunkHeader.Size];
        new XorbChunkHeader(0, frame.Length, XetCompressionScheme.Lz4, 999).WriteTo(header);

        var error = Assert.Throws<XetFormatException>(() => XorbReader.ReadChunks([.. header, .. frame], "expanding"));
        Assert.Contains("declared 999 bytes", error.Message);
    }

    [Fact]
    public void ChunkCountAndSizeLimitsApply()
    {
        var chunks = ChunksOf(XetTestData.Linear(300_000, 13, 37));
        var xorb = XorbWriter.Serialize(chunks, XetCompressionScheme.None);

        Assert.Contains("more than 2 chunks", Assert.Throws<XetFormatException>(() => XorbReader.ReadChunks(xorb, "x", new XorbLimits { MaxChunks = 2 })).Message);
        Assert.Contains("exceeds the limit of 1000", Assert.Throws<XetFormatException>(() => XorbReader.ReadChunks(xorb, "x", new XorbLimits { MaxSerializedBytes = 1000 })).Message);
    }
}
