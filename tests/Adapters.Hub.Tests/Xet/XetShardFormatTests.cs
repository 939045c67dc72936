using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Adapters.Hub.Xet;
using Adapters.Hub.Xet.Shards;
using Adapters.Testing;

namespace Adapters.Hub.Tests.Xet;

/// <summary>The shard (MDB) format: a server-written reference shard, round trips, the byte layout, hostile input.</summary>
public sealed class XetShardFormatTests
{
    private const string DedupeShard = "hfjs-gpt2-dedupe.shard";

    private static byte[] ReferenceShardBytes() => File.ReadAllBytes(TestPaths.Fixture("xet", DedupeShard));

    [Fact]
    public void ReadsTheServersDedupeShardFromHuggingfaceJs()
    {
        var expected = XetTestData.Fixture(DedupeShard + ".json");
        var shard = XetShardReader.Read(ReferenceShardBytes(), DedupeShard);

        Assert.Empty(shard.Files);
        Assert.Equal(XetHash.Parse(expected.GetProperty("hmac_key").GetString()), shard.HmacKey);
        Assert.True(shard.HasKeyedChunkHashes);
        Assert.Equal(1754059905UL, shard.CreatedUnixSeconds);
        Assert.Equal(1754664705UL, shard.ExpiresUnixSeconds);
        var xorbs = expected.GetProperty("xorbs").EnumerateArray().ToList();
        Assert.Equal(xorbs.Count, shard.Xorbs.Count);
        for (var i = 0; i < xorbs.Count; i++)
        {
            var actual = shard.Xorbs[i];
            Assert.Equal(xorbs[i].GetProperty("hash").GetString(), actual.XorbHash.ToString());
            Assert.Equal(xorbs[i].GetProperty("chunk_count").GetInt32(), actual.Chunks.Count);
            var first = xorbs[i].GetProperty("first_chunk_hashes").EnumerateArray().Select(h => h.GetString()!).ToList();
            Assert.Equal(first, actual.Chunks.Take(first.Count).Select(c => c.Hash.ToString()).ToList());
            Assert.Equal(xorbs[i].GetProperty("last_chunk_hash").GetString(), actual.Chunks[^1].Hash.ToString());
            var allHashes = string.Concat(actual.Chunks.Select(c => c.Hash + "\n"));
            Assert.Equal(xorbs[i].GetProperty("chunk_hashes_sha256").GetString(),
                Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(allHashes))));
            Assert.Equal(actual.UnpackedBytes, actual.Chunks[^1].UnpackedOffset + actual.Chunks[^1].UnpackedLength);
        }
    }

    [Fact]
    public void AChunkTheClientHoldsIsFoundUnderTheShardsHmacKey()
    {
        var known = XetTestData.Fixture(DedupeShard + ".json").GetProperty("known_chunk").GetProperty("plain").GetString();
        var shard = XetShardReader.Read(ReferenceShardBytes(), DedupeShard);

        var listed = shard.ListedFormOf(XetHash.Parse(known));

        Assert.Equal(shard.Xorbs[1].Chunks[0].Hash, listed);
        Assert.NotEqual(XetHash.Parse(known), listed);
        Assert.DoesNotContain(shard.Xorbs[0].Chunks, c => c.Hash == listed);
    }

    [Fact]
    public void RewritingTheReferenceShardKeepsEverythingItCarries()
    {
        var original = XetShardReader.Read(ReferenceShardBytes(), DedupeShard);

        var rewritten = XetShardReader.Read(XetShardWriter.Serialize(original), "rewritten");

        Assert.Equal(original.HmacKey, rewritten.HmacKey);
        Assert.Equal(original.CreatedUnixSeconds, rewritten.CreatedUnixSeconds);
        Assert.Equal(original.ExpiresUnixSeconds, rewritten.ExpiresUnixSeconds);
        Assert.Equal(original.Xorbs.Count, rewritten.Xorbs.Count);
        for (var i = 0; i < original.Xorbs.Count; i++)
        {
            Assert.Equal(original.Xorbs[i].XorbHash, rewritten.Xorbs[i].XorbHash);
            Assert.Equal(original.Xorbs[i].Chunks, rewritten.Xorbs[i].Chunks);
        }
    }

    /// <summary>An upload shard as a client builds it: two files sharing a xorb, real chunks, hashes and SHA-256s.</summary>
    private static (XetShard Shard, byte[] First, byte[] Second) UploadShard()
    {
        var first = XetTestData.SplitMix(400_000, 7);
        var second = first[..150_000].Concat(XetTestData.SplitMix(100_000, 8)).ToArray();
        var chunks = new List<(byte[] Data, XetChunkInfo Info)>();
        var firstChunks = ChunkInfos(first, chunks);
        var secondOwn = ChunkInfos(XetTestData.SplitMix(100_000, 8), []);
        var xorbInfos = chunks.Select(c => c.Info).ToList();
        var xorbBytes = XorbWriter.Serialize(chunks.Select(c => (ReadOnlyMemory<byte>)c.Data).ToList(), XetCompressionScheme.Lz4);
        var xorbHash = XetHashing.XorbHash(xorbInfos);
        var secondXorbHash = XetHashing.XorbHash(secondOwn);

        var firstFile = new XetShardFileInfo(
            XetHashing.FileHash(firstChunks),
            [new XetShardFileSegment(xorbHash, first.Length, 0, firstChunks.Count)],
            [XetHashing.VerificationHash(firstChunks.Select(c => c.Hash).ToList())],
            Convert.ToHexStringLower(SHA256.HashData(first)));
        // The second file's terms: a made-up xorb for its own tail, so the shard holds two xorbs and a two-term file.
        var secondFile = new XetShardFileInfo(
            XetHash.Parse(new string('a', 64)),
            [
                new XetShardFileSegment(xorbHash, (int)firstChunks[0].Length, 0, 1),
                new XetShardFileSegment(secondXorbHash, (int)secondOwn.Sum(c => c.Length), 0, secondOwn.Count),
            ]);
        var shard = new XetShard(
            [firstFile, secondFile],
            [XetShardXorbInfo.FromChunks(xorbHash, xorbInfos, xorbBytes.Length), XetShardXorbInfo.FromChunks(secondXorbHash, secondOwn, 0)])
        {
            CreatedUnixSeconds = 1_760_000_000,
        };
        return (shard, first, second);
    }

    private static List<XetChunkInfo> ChunkInfos(byte[] data, List<(byte[] Data, XetChunkInfo Info)> collect)
    {
        var infos = new List<XetChunkInfo>();
        var offset = 0;
        foreach (var length in XetChunker.ChunkLengths(data))
        {
            var chunk = data.AsSpan(offset, length).ToArray();
            var info = new XetChunkInfo(XetHashing.ChunkHash(chunk), length);
            infos.Add(info);
            collect.Add((chunk, info));
            offset += length;
        }
        return infos;
    }

    [Fact]
    public void AnUploadShardRoundTripsFileAndXorbEntries()
    {
        var (shard, first, _) = UploadShard();

        var bytes = XetShardWriter.Serialize(shard);
        var read = XetShardReader.Read(bytes, "upload.shard");

        Assert.Equal(2, read.Files.Count);
        Assert.Equal(shard.Files[0].FileHash, read.Files[0].FileHash);
        Assert.Equal(shard.Files[0].Segments, read.Files[0].Segments);
        Assert.Equal(shard.Files[0].VerificationHashes, read.Files[0].VerificationHashes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(first)), read.Files[0].Sha256);
        Assert.Equal(first.Length, read.Files[0].Length);
        Assert.Null(read.Files[1].VerificationHashes);
        Assert.Null(read.Files[1].Sha256);
        Assert.Equal(shard.Files[1].Segments, read.Files[1].Segments);
        Assert.Equal(shard.Xorbs.Select(x => (x.XorbHash, x.SerializedBytes)), read.Xorbs.Select(x => (x.XorbHash, x.SerializedBytes)));
        Assert.Equal(shard.Xorbs[0].Chunks, read.Xorbs[0].Chunks);
        Assert.Equal(XetHash.Zero, read.HmacKey);
        Assert.Equal(ulong.MaxValue, read.ExpiresUnixSeconds);
        // Serialisation is deterministic: the parsed shard writes the same bytes.
        Assert.Equal(bytes, XetShardWriter.Serialize(read));
    }

    [Fact]
    public void TheLayoutIsTheSpecifications()
    {
        var (shard, _, _) = UploadShard();
        var bytes = XetShardWriter.Serialize(shard);

        Assert.Equal("HFRepoMetaData\0"u8.ToArray(), bytes[..15]);
        Assert.Equal(2UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(200UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40)));
        var footer = bytes.AsSpan(bytes.Length - 200);
        ulong Footer(int index) => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 200 + index * 8));
        Assert.Equal(1UL, Footer(0));
        Assert.Equal(48UL, Footer(1));
        Assert.Equal((ulong)(bytes.Length - 200), Footer(24));

        // First file: header (flags: verification | metadata ext, one segment), segment, verification, sha256, then
        // the second file's header, two segments, and the bookend: 8 records before the xorb-info section.
        var file = bytes.AsSpan(48);
        Assert.Equal(shard.Files[0].FileHash, XetHash.FromBytes(file[..32]));
        Assert.Equal(0xC000_0000u, BinaryPrimitives.ReadUInt32LittleEndian(file[32..]));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(file[36..]));
        var segment = file[48..];
        Assert.Equal(shard.Xorbs[0].XorbHash, XetHash.FromBytes(segment[..32]));
        Assert.Equal((uint)shard.Files[0].Length, BinaryPrimitives.ReadUInt32LittleEndian(segment[36..]));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(segment[40..]));
        Assert.Equal((uint)shard.Files[0].Segments[0].ChunkIndexEnd, BinaryPrimitives.ReadUInt32LittleEndian(segment[44..]));
        // The SHA-256 is stored as the protocol stores every hash: four little-endian words, so each 8-byte group of
        // the digest appears reversed.
        var digest = Convert.FromHexString(shard.Files[0].Sha256!);
        var stored = file.Slice(3 * 48, 32).ToArray();
        for (var group = 0; group < 4; group++)
            Assert.Equal(digest.Skip(group * 8).Take(8).Reverse(), stored.Skip(group * 8).Take(8));
        Assert.True(file.Slice(7 * 48, 32).ToArray().All(b => b == 0xFF));
        Assert.Equal((ulong)(48 + 8 * 48), Footer(2));

        // Xorb entry header: hash, flags, chunk count, unpacked bytes, serialised bytes.
        var xorb = bytes.AsSpan((int)Footer(2));
        Assert.Equal(shard.Xorbs[0].XorbHash, XetHash.FromBytes(xorb[..32]));
        Assert.Equal((uint)shard.Xorbs[0].Chunks.Count, BinaryPrimitives.ReadUInt32LittleEndian(xorb[36..]));
        Assert.Equal((uint)shard.Xorbs[0].UnpackedBytes, BinaryPrimitives.ReadUInt32LittleEndian(xorb[40..]));
        Assert.Equal((uint)shard.Xorbs[0].SerializedBytes, BinaryPrimitives.ReadUInt32LittleEndian(xorb[44..]));
        var secondChunk = xorb[96..];
        Assert.Equal((uint)shard.Xorbs[0].Chunks[0].UnpackedLength, BinaryPrimitives.ReadUInt32LittleEndian(secondChunk[32..]));

        // Lookup tables: counts in the footer, rows sorted on the hashes' first words.
        Assert.Equal(2UL, Footer(4));
        Assert.Equal(2UL, Footer(6));
        Assert.Equal((ulong)shard.Xorbs.Sum(x => x.Chunks.Count), Footer(8));
        var chunkKeys = Enumerable.Range(0, (int)Footer(8))
            .Select(i => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan((int)Footer(7) + i * 16))).ToList();
        Assert.Equal(chunkKeys.Order(), chunkKeys);
        // Totals: serialised xorb bytes, file bytes, unpacked xorb bytes.
        Assert.Equal((ulong)shard.Xorbs.Sum(x => x.SerializedBytes), BinaryPrimitives.ReadUInt64LittleEndian(footer[168..]));
        Assert.Equal((ulong)shard.Files.Sum(f => f.Length), BinaryPrimitives.ReadUInt64LittleEndian(footer[176..]));
        Assert.Equal((ulong)shard.Xorbs.Sum(x => x.UnpackedBytes), BinaryPrimitives.ReadUInt64LittleEndian(footer[184..]));
    }

    [Fact]
    public void ReadsAShardWithoutLookupTablesAsTheJsClientUploadsIt()
    {
        // huggingface.js leaves the lookup offsets and counts zero and writes expiry 0; the sections are what count.
        var (shard, _, _) = UploadShard();
        var bytes = XetShardWriter.Serialize(shard);
        var footerStart = bytes.Length - 200;
        var sectionsEnd = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(footerStart + 24));
        var stripped = bytes[..sectionsEnd].Concat(bytes[footerStart..]).ToArray();
        var footer = stripped.AsSpan(sectionsEnd);
        for (var word = 3; word <= 8; word++) BinaryPrimitives.WriteUInt64LittleEndian(footer[(word * 8)..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[112..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[192..], (ulong)sectionsEnd);

        var read = XetShardReader.Read(stripped, "js-style.shard");

        Assert.Equal(shard.Files.Select(f => f.FileHash), read.Files.Select(f => f.FileHash));
        Assert.Equal(shard.Xorbs[1].Chunks, read.Xorbs[1].Chunks);
        Assert.Equal(0UL, read.ExpiresUnixSeconds);
    }

    public static TheoryData<string, string> HostileEdits() => new()
    {
        { "truncated", "too few for a shard" },
        { "tag", "magic tag" },
        { "header-version", "header version 3" },
        { "footer-size", "-byte footer" },
        { "footer-version", "footer (byte" },
        { "footer-offset", "footer says it starts" },
        { "section-order", "section offsets" },
        { "segment-count", "declares 1000000 segments" },
        { "empty-segment", "is not a non-empty range" },
        { "no-bookend", "without its bookend" },
        { "chunk-count", "lists 9000 chunks" },
        { "chunk-offset", "expected 0, the sum" },
        { "chunk-length", "exceeds the limit of" },
        { "unpacked-total", "unpacked bytes but its chunks add up" },
        { "lookup", "chunk lookup table" },
    };

    [Theory]
    [MemberData(nameof(HostileEdits))]
    public void HostileShardsFailTypedNamingWhatIsWrong(string edit, string expectedMessage)
    {
        var (shard, _, _) = UploadShard();
        var bytes = XetShardWriter.Serialize(shard);
        var footerStart = bytes.Length - 200;
        var footer = bytes.AsSpan(footerStart);
        var xorbInfo = (int)BinaryPrimitives.ReadUInt64LittleEndian(footer[16..]);
        switch (edit)
        {
            case "truncated": bytes = bytes[..200]; break;
            case "tag": bytes[3] ^= 1; break;
            case "header-version": bytes[32] = 3; break;
            case "footer-size": bytes[40] = 100; break;
            case "footer-version": footer[0] = 2; break;
            case "footer-offset": BinaryPrimitives.WriteUInt64LittleEndian(footer[192..], 48); break;
            case "section-order": BinaryPrimitives.WriteUInt64LittleEndian(footer[16..], 40); break;
            case "segment-count": BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(48 + 36), 1_000_000); break;
            case "empty-segment": BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(96 + 44), 0); break;
            case "no-bookend": bytes.AsSpan(xorbInfo - 48, 32).Clear(); break;
            case "chunk-count": BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(xorbInfo + 36), 9000); break;
            case "chunk-offset": BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(xorbInfo + 48 + 32), 5); break;
            case "chunk-length": BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(xorbInfo + 48 + 36), 1 << 20); break;
            case "unpacked-total": BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(xorbInfo + 40), 1); break;
            case "lookup": BinaryPrimitives.WriteUInt64LittleEndian(footer[64..], 1UL << 40); break;
        }

        var error = Assert.Throws<XetFormatException>(() => XetShardReader.Read(bytes, "hostile.shard"));

        Assert.Contains("hostile.shard", error.Message);
        Assert.Contains(expectedMessage, error.Message);
    }

    [Fact]
    public void AShardLargerThanTheLimitIsRefusedBeforeParsing()
    {
        var bytes = ReferenceShardBytes();

        var error = Assert.Throws<XetFormatException>(() =>
            XetShardReader.Read(bytes, DedupeShard, new XetShardLimits { MaxSerializedBytes = 100_000 }));

        Assert.Contains("exceeds the limit of 100000", error.Message);
    }

    [Fact]
    public void TheWriterRefusesInconsistentEntries()
    {
        var hash = XetHash.Parse(new string('1', 64));
        Assert.Throws<ArgumentException>(() => new XetShardFileInfo(hash, [new XetShardFileSegment(hash, 10, 0, 1)], []));
        Assert.Throws<ArgumentException>(() => new XetShardFileInfo(hash, [], sha256: "abc"));
        Assert.Throws<ArgumentException>(() => XetShardWriter.Serialize(new XetShard(
            [], [new XetShardXorbInfo(hash, [new XetShardXorbChunk(hash, 4, 10)], 0)])));
        Assert.Throws<ArgumentException>(() => XetShardWriter.Serialize(new XetShard(
            [new XetShardFileInfo(hash, [new XetShardFileSegment(hash, 10, 3, 3)])], [])));
    }
}
