using Adapters.Hub.Xet;
using Adapters.Hub.Xet.Dedupe;
using Adapters.Hub.Xet.Shards;

namespace Adapters.Hub.Tests.Xet;

/// <summary>The upload dedupe logic without transport: what a second push must send.</summary>
public sealed class XetDeduplicatorTests
{
    private static readonly XetHash Key = XetHash.Parse(new string('7', 64));

    /// <summary>A CAS that, like a minimal server, answers a dedupe query with only the one xorb holding the chunk.</summary>
    private sealed class OneXorbCas
    {
        public List<XetShardXorbInfo> Stored { get; } = [];
        public int Queries { get; private set; }

        public Task<XetShard?> QueryAsync(XetHash chunk, CancellationToken cancellationToken)
        {
            Queries++;
            var xorb = Stored.FirstOrDefault(x => x.Chunks.Any(c => c.Hash == chunk));
            return Task.FromResult(xorb is null ? null : new XetShard([], [xorb with
            {
                Chunks = xorb.Chunks.Select(c => c with { Hash = XetHashing.KeyedChunkHash(c.Hash, Key) }).ToList(),
            }]) { HmacKey = Key });
        }
    }

    private static async Task<(XetShardFileInfo File, XetDedupeStats Stats, Dictionary<XetHash, BuiltXorb> Xorbs)> PushAsync(byte[] content, OneXorbCas cas)
    {
        var built = new Dictionary<XetHash, BuiltXorb>();
        // Small xorbs (8 chunks), so a file spans many and the server's one-xorb answers matter.
        var dedupe = new XetDeduplicator(new XetChunkIndex(), cas.QueryAsync, (x, _) =>
        {
            built[x.Hash] = x;
            return Task.CompletedTask;
        }, limits: new XorbLimits { MaxChunks = 8 });
        var file = await dedupe.AddFileAsync(() => new MemoryStream(content), null, null, CancellationToken.None);
        cas.Stored.AddRange(dedupe.NewXorbs);
        return (file, dedupe.Stats, built);
    }

    [Fact]
    public async Task A_second_push_finds_every_stored_xorb_even_when_each_answer_lists_one()
    {
        var cas = new OneXorbCas();
        var original = new byte[3_000_000];
        new Random(21).NextBytes(original);
        var (first, firstStats, _) = await PushAsync(original, cas);
        Assert.True(firstStats.Xorbs >= 5);
        Assert.Equal(original.Length, firstStats.NewChunkBytes);
        var edited = (byte[])original.Clone();
        new Random(22).NextBytes(edited.AsSpan(1_500_000, 30_000));

        var (second, stats, _) = await PushAsync(edited, cas);

        // The rewritten region plus about one chunk at each edge; everything else is referenced from stored xorbs.
        Assert.InRange(stats.NewChunkBytes, 30_000, 30_000 + 4 * XetChunker.MaximumChunkSize);
        Assert.Equal(second.Length, edited.Length);
        Assert.Contains(second.Segments, s => first.Segments.Any(f => f.XorbHash == s.XorbHash));
        Assert.True(stats.ChunksFoundGlobally > 30);
    }

    [Fact]
    public async Task A_new_file_asks_the_cas_sparsely()
    {
        var cas = new OneXorbCas();
        var content = new byte[8_000_000];
        new Random(23).NextBytes(content);

        var (_, stats, _) = await PushAsync(content, cas);

        // First chunk, then run positions 1, 2, 4, ... (about 120 chunks here): a handful of queries, not one per chunk.
        Assert.InRange(stats.Queries, 1, 12);
        Assert.Equal(stats.Chunks, stats.NewChunks);
    }
}
