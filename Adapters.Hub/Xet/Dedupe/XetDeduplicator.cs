using System.Buffers;
using Adapters.Hub.Xet.Shards;

namespace Adapters.Hub.Xet.Dedupe;

/// <summary>
/// Turns files into Xet uploads: chunks and hashes each file, finds chunks that are stored already (in xorbs of this
/// upload, or through global-dedupe queries for a file's first chunk and every chunk whose hash's last word is
/// divisible by 1024), packs the others into xorbs, and describes the file as terms over both. Transport is the
/// caller's: <c>query</c> asks the CAS about a chunk, <c>xorbReady</c> receives each xorb once it is closed (all of
/// a file's xorbs are closed before its entry is returned).
/// </summary>
public sealed class XetDeduplicator(
    XetChunkIndex index,
    Func<XetHash, CancellationToken, Task<XetShard?>>? query,
    Func<BuiltXorb, CancellationToken, Task> xorbReady,
    XetCompressionScheme scheme = XetCompressionScheme.Lz4,
    XorbLimits? limits = null)
{
    /// <summary>A chunk is a global-dedupe candidate when its hash's last word is divisible by this.</summary>
    public const ulong GlobalDedupeModulus = 1024;

    private const int ReadBlock = 1 << 20;

    /// <summary>Largest gap, in chunks, between dedupe queries inside a run of unknown chunks.</summary>
    private const int MaxProbeSpacing = 256;

    private readonly XorbBuilder _builder = new(scheme, limits);
    private readonly List<XetShardXorbInfo> _xorbs = [];
    private readonly HashSet<XetHash> _queried = [];
    private readonly HashSet<XetHash> _localXorbs = [];
    private XetDedupeStats _stats = new();

    /// <summary>The xorbs built so far, as the shard lists them.</summary>
    public IReadOnlyList<XetShardXorbInfo> NewXorbs => _xorbs;

    /// <summary>Totals over every file processed.</summary>
    public XetDedupeStats Stats => _stats;

    /// <summary>Whether a chunk hash is one a client asks the CAS about (besides each file's first chunk).</summary>
    public static bool IsGlobalDedupeCandidate(XetHash chunkHash) => chunkHash.LastWord % GlobalDedupeModulus == 0;

    /// <summary>
    /// Processes one file (read twice through <paramref name="open"/>: once to chunk and hash it, once to pack its new
    /// chunks) and returns its shard entry with verification hashes and <paramref name="sha256"/>.
    /// <paramref name="onBytes"/> hears of each chunk's bytes as it is handled, stored already or packed.
    /// </summary>
    public async Task<XetShardFileInfo> AddFileAsync(Func<Stream> open, string? sha256, Action<long>? onBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        var chunks = await ChunkAsync(open, cancellationToken).ConfigureAwait(false);

        // Where each chunk goes: a known location, or (xorb ordinal in this file, index) in a xorb still being built.
        var pieces = new (XetHash Xorb, int Pending, int Index)[chunks.Count];
        var pendingHashes = new List<XetHash>();
        var pendingChunks = new Dictionary<XetHash, (int Pending, int Index)>();
        long newBytes = 0, newChunks = 0, foundGlobally = 0;
        var queries = 0;

        // Besides the protocol's candidates (first chunk, hash rule), the CAS is asked about the first unknown chunk
        // after a stored one (a server may answer with the one xorb that holds a chunk, and stored data usually goes
        // on in the next xorb of the same upload) and, within a run of unknown chunks, at run positions 1, 2, 4, …,
        // 256 and every 256 chunks after: where new data ends and stored data resumes in an unseen xorb, the run
        // costs at most about its own length again.
        var previousStored = false;
        var unknownRun = 0;
        var nextProbe = 1;
        await using (var stream = open())
        {
            var buffer = new byte[XetChunker.MaximumChunkSize];
            for (var i = 0; i < chunks.Count; i++)
            {
                var chunk = chunks[i];
                var length = (int)chunk.Length;
                await stream.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                if (query is not null && !index.TryFind(chunk.Hash, out _) && !pendingChunks.ContainsKey(chunk.Hash))
                {
                    var probe = unknownRun == nextProbe;
                    if (probe) nextProbe = unknownRun < MaxProbeSpacing ? unknownRun * 2 : unknownRun + MaxProbeSpacing;
                    if ((i == 0 || IsGlobalDedupeCandidate(chunk.Hash) || previousStored || probe) && _queried.Add(chunk.Hash))
                    {
                        queries++;
                        if (await query(chunk.Hash, cancellationToken).ConfigureAwait(false) is { } shard) index.AddShard(shard);
                    }
                }
                if (index.TryFind(chunk.Hash, out var location))
                {
                    pieces[i] = (location.XorbHash, -1, location.ChunkIndex);
                    if (!_localXorbs.Contains(location.XorbHash)) foundGlobally++;
                    previousStored = true;
                    unknownRun = 0;
                    nextProbe = 1;
                    onBytes?.Invoke(length);
                    continue;
                }
                previousStored = false;
                unknownRun++;
                if (pendingChunks.TryGetValue(chunk.Hash, out var pending))
                {
                    pieces[i] = (default, pending.Pending, pending.Index);
                }
                else
                {
                    if (!_builder.Fits(length)) pendingHashes.Add(await CloseXorbAsync(cancellationToken).ConfigureAwait(false));
                    var at = _builder.Add(buffer.AsSpan(0, length).ToArray(), chunk);
                    pendingChunks[chunk.Hash] = (pendingHashes.Count, at);
                    pieces[i] = (default, pendingHashes.Count, at);
                    newBytes += length;
                    newChunks++;
                }
                onBytes?.Invoke(length);
            }
        }
        if (_builder.Count > 0) pendingHashes.Add(await CloseXorbAsync(cancellationToken).ConfigureAwait(false));

        var segments = new List<XetShardFileSegment>();
        var verification = new List<XetHash>();
        for (var start = 0; start < pieces.Length;)
        {
            var xorb = pieces[start].Pending >= 0 ? pendingHashes[pieces[start].Pending] : pieces[start].Xorb;
            var end = start + 1;
            long bytes = chunks[start].Length;
            while (end < pieces.Length
                   && (pieces[end].Pending >= 0 ? pendingHashes[pieces[end].Pending] : pieces[end].Xorb) == xorb
                   && pieces[end].Index == pieces[end - 1].Index + 1)
            {
                bytes += chunks[end].Length;
                end++;
            }
            segments.Add(new XetShardFileSegment(xorb, checked((int)bytes), pieces[start].Index, pieces[end - 1].Index + 1));
            verification.Add(XetHashing.VerificationHash(chunks.Skip(start).Take(end - start).Select(c => c.Hash).ToList()));
            start = end;
        }

        _stats = _stats with
        {
            FileBytes = _stats.FileBytes + chunks.Sum(c => c.Length),
            Chunks = _stats.Chunks + chunks.Count,
            NewChunkBytes = _stats.NewChunkBytes + newBytes,
            NewChunks = _stats.NewChunks + newChunks,
            Queries = _stats.Queries + queries,
            ChunksFoundGlobally = _stats.ChunksFoundGlobally + foundGlobally,
        };
        return new XetShardFileInfo(XetHashing.FileHash(chunks), segments, verification, sha256);
    }

    private async Task<XetHash> CloseXorbAsync(CancellationToken cancellationToken)
    {
        var built = _builder.Close()!;
        _localXorbs.Add(built.Hash);
        index.AddXorb(built.Hash, built.Chunks);
        _xorbs.Add(XetShardXorbInfo.FromChunks(built.Hash, built.Chunks, built.Bytes.Length));
        _stats = _stats with { XorbBytes = _stats.XorbBytes + built.Bytes.Length, Xorbs = _stats.Xorbs + 1 };
        await xorbReady(built, cancellationToken).ConfigureAwait(false);
        return built.Hash;
    }

    private static async Task<List<XetChunkInfo>> ChunkAsync(Func<Stream> open, CancellationToken cancellationToken)
    {
        var hasher = new XetChunkHasher();
        await using var stream = open();
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBlock);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, ReadBlock), cancellationToken).ConfigureAwait(false)) > 0)
                hasher.Append(buffer.AsSpan(0, read));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return hasher.Complete();
    }
}
