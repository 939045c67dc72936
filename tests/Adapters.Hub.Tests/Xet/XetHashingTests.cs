using Adapters.Hub.Xet;

namespace Adapters.Hub.Tests.Xet;

/// <summary>Chunk, xorb, file and verification hashes against the reference implementations' vectors.</summary>
public sealed class XetHashingTests
{
    [Fact]
    public void TextFormWritesEachLittleEndianWordAsHex()
    {
        // xet-core data_hash.rs test_hash_hex_string_endianness.
        byte[] raw =
        [
            22, 175, 58, 132, 4, 75, 131, 214, 190, 153, 138, 66, 226, 3, 153, 242,
            204, 86, 80, 234, 249, 153, 80, 99, 159, 80, 65, 138, 236, 231, 149, 78,
        ];
        var hash = XetHash.FromBytes(raw);

        Assert.Equal("d6834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509f", hash.ToString());
        Assert.Equal(hash, XetHash.Parse(hash.ToString()));
        Assert.Equal(raw, hash.ToByteArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("d6834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509")]
    [InlineData("g6834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509f")]
    [InlineData("+6834b04843aaf16f29903e2428a99be635099f9ea5056cc4e95e7ec8a41509f")]
    public void MalformedTextIsRejectedNamingTheInput(string text)
    {
        var error = Assert.Throws<XetFormatException>(() => XetHash.Parse(text));
        Assert.Contains($"'{text}'", error.Message);
    }

    [Fact]
    public void XorbAndFileHashesMatchEveryXetCoreReferenceCase()
    {
        var cases = XetTestData.Fixture("merkle-reference.json").GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(18, cases.Count);
        foreach (var testCase in cases)
        {
            var chunks = testCase.GetProperty("chunks").EnumerateArray()
                .Select(c => new XetChunkInfo(XetHash.Parse(c.GetProperty("hash").GetString()!), c.GetProperty("length").GetInt64()))
                .ToList();

            Assert.Equal(testCase.GetProperty("xorb_hash").GetString(), XetHashing.XorbHash(chunks).ToString());
            foreach (var salted in testCase.GetProperty("file_hashes").EnumerateArray())
            {
                var salt = XetHash.Parse(salted.GetProperty("salt").GetString()!);
                Assert.Equal(salted.GetProperty("file_hash").GetString(), XetHashing.FileHash(chunks, salt).ToString());
            }
        }
    }

    [Fact]
    public void XorbAndFileHashesOfChunkedFilesMatchHuggingfaceJs()
    {
        foreach (var testCase in XetTestData.Fixture("hfjs-reference.json").GetProperty("linear_data").EnumerateArray())
        {
            var data = XetTestData.Linear(testCase.GetProperty("length").GetInt32(), testCase.GetProperty("a").GetInt32(), testCase.GetProperty("b").GetInt32());
            var chunks = new List<XetChunkInfo>();
            var offset = 0;
            foreach (var length in XetChunker.ChunkLengths(data))
            {
                chunks.Add(new XetChunkInfo(XetHashing.ChunkHash(data.AsSpan(offset, length)), length));
                offset += length;
            }

            Assert.Equal(testCase.GetProperty("xorb_hash").GetString(), XetHashing.XorbHash(chunks).ToString());
            Assert.Equal(testCase.GetProperty("file_hash").GetString(), XetHashing.FileHash(chunks).ToString());
        }
    }

    [Fact]
    public void FileHashOfOneChunkIsItsHashKeyedWithTheSalt()
    {
        // With one chunk the Merkle root is the chunk hash, so the file hash is huggingface.js's hmac vector.
        var reference = XetTestData.Fixture("hfjs-reference.json").GetProperty("hmac");
        var chunk = new XetChunkInfo(XetHash.Parse(reference.GetProperty("hash").GetString()!), 1234);

        var hash = XetHashing.FileHash([chunk], XetHash.Parse(reference.GetProperty("key").GetString()!));

        Assert.Equal(reference.GetProperty("result").GetString(), hash.ToString());
    }

    [Fact]
    public void VerificationHashMatchesHuggingfaceJs()
    {
        var reference = XetTestData.Fixture("hfjs-reference.json").GetProperty("verification");
        var hashes = reference.GetProperty("hashes").EnumerateArray().Select(h => XetHash.Parse(h.GetString()!)).ToList();

        Assert.Equal(reference.GetProperty("result").GetString(), XetHashing.VerificationHash(hashes).ToString());
    }

    [Fact]
    public void NoChunksHashToZero()
    {
        Assert.Equal(XetHash.Zero, XetHashing.XorbHash([]));
        Assert.Equal(XetHash.Zero, XetHashing.FileHash([]));
    }
}
