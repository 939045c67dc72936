using Adapters.Hub.Xet;

namespace Adapters.Hub.Tests.Xet;

/// <summary>Chunk boundaries against the reference vectors of xet-core and huggingface.js (see fixtures/xet).</summary>
public sealed class XetChunkerTests
{
    [Fact]
    public void SplitMixStreamCutsWhereXetCoreCutsAndChunksHashAsHuggingfaceJs()
    {
        var reference = XetTestData.Fixture("chunking-reference.json").GetProperty("splitmix_seed0_1000000");
        var data = XetTestData.SplitMix(1_000_000, 0);
        foreach (var check in reference.GetProperty("byte_checks").EnumerateObject())
            Assert.Equal(check.Value.GetInt32(), data[int.Parse(check.Name)]);
        var hfjs = XetTestData.Fixture("hfjs-reference.json");
        Assert.Equal(hfjs.GetProperty("splitmix_seed0_1000000_sha256").GetString(),
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data)));

        var lengths = XetChunker.ChunkLengths(data);

        var expected = reference.GetProperty("boundaries").EnumerateArray().Select(b => b.GetInt64()).ToList();
        Assert.Equal(expected, XetTestData.Boundaries(lengths.Select(l => (long)l)));
        var expectedHashes = hfjs.GetProperty("splitmix_seed0_1000000_chunk_hashes").EnumerateArray().Select(h => h.GetString()).ToList();
        var offset = 0;
        var actualHashes = new List<string?>();
        foreach (var length in lengths)
        {
            actualHashes.Add(XetHashing.ChunkHash(data.AsSpan(offset, length)).ToString());
            offset += length;
        }
        Assert.Equal(expectedHashes, actualHashes);
    }

    [Fact]
    public void ConstantInputIsCutAtTheMaximumSize()
    {
        var reference = XetTestData.Fixture("chunking-reference.json").GetProperty("constant59_1000000");
        var data = new byte[1_000_000];
        Array.Fill(data, (byte)59);

        var boundaries = XetTestData.Boundaries(XetChunker.ChunkLengths(data).Select(l => (long)l));

        Assert.Equal(reference.GetProperty("boundaries").EnumerateArray().Select(b => b.GetInt64()), boundaries);
    }

    [Fact]
    public void TriggeringPatternsNearTheMinimumSizeMatchAll128ReferenceCases()
    {
        var reference = XetTestData.Fixture("chunking-reference.json").GetProperty("hitting_pattern");
        var baseBytes = reference.GetProperty("base").EnumerateArray().Select(b => b.GetInt32()).ToArray();
        var length = reference.GetProperty("length").GetInt32();
        var cases = reference.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(128, cases.Count);
        foreach (var testCase in cases)
        {
            var padding = testCase.GetProperty("padding").GetInt32();
            var data = XetTestData.Triggering(baseBytes, padding, length);
            Assert.Equal(testCase.GetProperty("byte_at_11111").GetInt32(), data[11111]);

            var boundaries = XetTestData.Boundaries(XetChunker.ChunkLengths(data).Select(l => (long)l));

            Assert.True(testCase.GetProperty("boundaries").EnumerateArray().Select(b => b.GetInt64()).SequenceEqual(boundaries),
                $"padding {padding}: got [{string.Join(", ", boundaries)}]");
        }
    }

    [Fact]
    public void XorShiftStreamMatchesHuggingfaceJsMinimumSizeRegression()
    {
        var reference = XetTestData.Fixture("hfjs-reference.json").GetProperty("xorshift32_3mib");
        var data = XetTestData.XorShift32(reference.GetProperty("length").GetInt32(), reference.GetProperty("seed").GetUInt32());

        var lengths = XetChunker.ChunkLengths(data);

        Assert.Equal(reference.GetProperty("chunk_count").GetInt32(), lengths.Count);
        Assert.All(lengths.Take(lengths.Count - 1), l => Assert.True(l >= XetChunker.MinimumChunkSize));
        var index = reference.GetProperty("chunk_index").GetInt32();
        Assert.Equal(reference.GetProperty("chunk_length").GetInt32(), lengths[index]);
        var start = lengths.Take(index).Sum();
        Assert.Equal(reference.GetProperty("chunk_hash").GetString(), XetHashing.ChunkHash(data.AsSpan(start, lengths[index])).ToString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(255)]
    [InlineData(4096)]
    [InlineData(200_000)]
    public void BoundariesDoNotDependOnHowTheInputIsSliced(int sliceSize)
    {
        var data = XetTestData.SplitMix(256_000, 1);
        var whole = XetChunker.ChunkLengths(data);

        var chunker = new XetChunker();
        var sliced = new List<int>();
        var open = 0;
        for (var position = 0; position < data.Length; position += sliceSize)
        {
            var slice = data.AsSpan(position, Math.Min(sliceSize, data.Length - position));
            while (!slice.IsEmpty)
            {
                var cut = chunker.NextBoundary(slice);
                if (cut < 0) { open += slice.Length; break; }
                sliced.Add(open + cut);
                open = 0;
                slice = slice[cut..];
            }
        }
        if (open > 0) sliced.Add(open);

        Assert.Equal(whole, sliced);
    }

    [Fact]
    public async Task StreamHashingGivesTheSameChunksAsTheWholeBuffer()
    {
        var data = XetTestData.SplitMix(1_000_000, 0);
        var expected = XetTestData.Fixture("hfjs-reference.json").GetProperty("splitmix_seed0_1000000_chunk_hashes")
            .EnumerateArray().Select(h => h.GetString()).ToList();

        var chunks = await XetChunker.HashChunksAsync(new MemoryStream(data));

        Assert.Equal(expected, chunks.Select(c => c.Hash.ToString()));
        Assert.Equal(data.Length, chunks.Sum(c => c.Length));
    }

    [Fact]
    public void EmptyInputHasNoChunksAndShortInputIsOneChunk()
    {
        Assert.Empty(XetChunker.ChunkLengths([]));
        Assert.Equal([100], XetChunker.ChunkLengths(new byte[100]));
    }
}
