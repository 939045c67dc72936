using System.Collections.Concurrent;
using System.Security.Cryptography;
using Adapters.Hub.Xet;
using Adapters.Hub.Xet.Shards;
using Adapters.Registry.Storage;

namespace Adapters.Registry.Xet;

/// <summary>
/// Xet content on top of the registry's blob store and metadata: verified xorbs (stored once, whoever uploads them),
/// file reconstructions checked by rebuilding the file, and reading a file's bytes back out of its xorbs.
/// Chunks dedupe across files and repositories because xorbs and files are addressed by content alone; which
/// repository may read a file is recorded separately (<see cref="XetMetadata.RepoMayRead"/>).
/// </summary>
internal sealed class XetStorage(BlobStore blobs, XetMetadata metadata)
{
    /// <summary>Layouts of recently used xorbs; xorbs never change, so a cached layout never goes stale.</summary>
    private readonly ConcurrentDictionary<string, XorbLayout> _layouts = new(StringComparer.Ordinal);

    private const int MaxCachedLayouts = 4096;

    /// <summary>Chunk lists of xorbs recently named in dedupe answers.</summary>
    private readonly ConcurrentDictionary<string, XetShardXorbInfo> _chunkLists = new(StringComparer.Ordinal);

    private const int MaxCachedChunkLists = 256;

    public XetMetadata Metadata => metadata;

    /// <summary>
    /// Stores the serialised xorb <paramref name="body"/> under <paramref name="xorbHash"/> after parsing every chunk
    /// and checking that they hash to that name; returns whether it was new.
    /// </summary>
    public async Task<bool> PutXorbAsync(XetHash xorbHash, byte[] body, CancellationToken cancellationToken)
    {
        var name = xorbHash.ToString();
        if (metadata.HasXorb(name)) return false;
        List<byte[]> chunks;
        try
        {
            chunks = XorbReader.ReadVerified(body, xorbHash);
        }
        catch (XetFormatException ex)
        {
            throw RegistryException.BadRequest($"The body of POST /v1/xorbs/default/{name} is not a valid xorb: {ex.Message}");
        }
        catch (Hub.IntegrityException ex)
        {
            throw RegistryException.BadRequest($"The body of POST /v1/xorbs/default/{name} is not that xorb: {ex.Message}");
        }
        if (chunks.Count == 0) throw RegistryException.BadRequest($"The body of POST /v1/xorbs/default/{name} holds no chunk.");
        var temp = blobs.NewTempPath("xorb");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await file.WriteAsync(body, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            await blobs.AdoptXorbAsync(temp, name, body.Length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        var chunkHashes = chunks.Select(c => XetHashing.ChunkHash(c).ToString()).ToList();
        return metadata.AddXorb(name, body.Length, chunkHashes);
    }

    /// <summary>The chunk layout of a stored xorb; null when the xorb is not stored.</summary>
    public XorbLayout? Layout(string xorbHash)
    {
        if (_layouts.TryGetValue(xorbHash, out var cached)) return cached;
        if (!metadata.HasXorb(xorbHash)) return null;
        var layout = XorbLayout.Read(blobs.XorbPath(xorbHash), xorbHash);
        if (_layouts.Count >= MaxCachedLayouts) _layouts.Clear();
        _layouts[xorbHash] = layout;
        return layout;
    }

    /// <summary>A stored xorb's chunk hashes and lengths, as a shard lists them, read from the xorb itself.</summary>
    public XetShardXorbInfo XorbChunks(string xorbHash)
    {
        if (_chunkLists.TryGetValue(xorbHash, out var cached)) return cached;
        var bytes = File.ReadAllBytes(XorbPath(xorbHash));
        var chunks = XorbReader.ReadChunks(bytes, $"stored xorb {xorbHash}");
        var info = XetShardXorbInfo.FromChunks(XetHash.Parse(xorbHash), chunks.Select(c => new XetChunkInfo(XetHashing.ChunkHash(c), c.Length)).ToList(), bytes.Length);
        if (_chunkLists.Count >= MaxCachedChunkLists) _chunkLists.Clear();
        _chunkLists[xorbHash] = info;
        return info;
    }

    /// <summary>The local file of a stored xorb (fetched from object storage when only there).</summary>
    public string XorbPath(string xorbHash) => blobs.XorbPath(xorbHash);

    /// <summary>
    /// Checks a file reconstruction a shard declares before anyone may use it: every term names a stored xorb and a
    /// chunk range inside it whose length is the declared one, the verification hash of each term (when given)
    /// matches the stored chunks, the chunks' Merkle root is the file hash, and the bytes hash to the declared
    /// SHA-256 (computed here when the shard gives none). Then records it as readable by <paramref name="repo"/>.
    /// </summary>
    public XetFileRecord RegisterFile(XetHash fileHash, IReadOnlyList<XetTermRecord> terms, IReadOnlyList<XetHash>? verificationHashes, string? sha256, RepoKey repo, CancellationToken cancellationToken)
    {
        var name = fileHash.ToString();
        if (metadata.FindFile(name) is { } known && (sha256 is null || known.Sha256 == sha256))
        {
            // Content-addressed: the same file hash is the same bytes. Whoever re-declares it proves possession
            // through the verification hashes, checked below for every term before the repository gets access.
            VerifyPossession(known.Terms, verificationHashes, name, cancellationToken);
            metadata.AddFile(known, repo);
            return known;
        }
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunkInfos = new List<XetChunkInfo>();
        long size = 0;
        for (var t = 0; t < terms.Count; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var term = terms[t];
            var chunks = ReadTermChunks(term, $"file {name} term {t}");
            var termHashes = new List<XetHash>(chunks.Count);
            long termLength = 0;
            foreach (var chunk in chunks)
            {
                var hash = XetHashing.ChunkHash(chunk);
                termHashes.Add(hash);
                chunkInfos.Add(new XetChunkInfo(hash, chunk.Length));
                sha.AppendData(chunk);
                termLength += chunk.Length;
            }
            if (termLength != term.UnpackedLength)
            {
                throw RegistryException.BadRequest($"File {name} term {t} declares {term.UnpackedLength} bytes, but chunks {term.Start}..{term.End} of xorb {term.XorbHash} hold {termLength}.");
            }
            if (verificationHashes is not null && XetHashing.VerificationHash(termHashes) != verificationHashes[t])
            {
                throw RegistryException.BadRequest($"File {name} term {t}: the verification hash does not match chunks {term.Start}..{term.End} of xorb {term.XorbHash}.");
            }
            size += termLength;
        }
        var actualFileHash = XetHashing.FileHash(chunkInfos);
        if (actualFileHash != fileHash)
        {
            throw RegistryException.BadRequest($"The shard declares file {name}, but its terms rebuild a file whose hash is {actualFileHash}.");
        }
        var actualSha256 = Convert.ToHexStringLower(sha.GetHashAndReset());
        if (sha256 is not null && sha256 != actualSha256)
        {
            throw RegistryException.BadRequest($"The shard declares sha256 {sha256} for file {name}, but its bytes hash to {actualSha256}.");
        }
        var record = new XetFileRecord(name, actualSha256, size, terms);
        metadata.AddFile(record, repo);
        return metadata.FindFile(name) ?? record;
    }

    private void VerifyPossession(IReadOnlyList<XetTermRecord> stored, IReadOnlyList<XetHash>? verificationHashes, string name, CancellationToken cancellationToken)
    {
        if (verificationHashes is null || verificationHashes.Count != stored.Count)
        {
            throw RegistryException.BadRequest($"File {name} is stored already; a shard naming it again must carry one verification hash per term ({stored.Count}).");
        }
        for (var t = 0; t < stored.Count; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var hashes = ReadTermChunks(stored[t], $"file {name} term {t}").Select(c => XetHashing.ChunkHash(c)).ToList();
            if (XetHashing.VerificationHash(hashes) != verificationHashes[t])
            {
                throw RegistryException.BadRequest($"File {name} term {t}: the verification hash does not match the stored chunks.");
            }
        }
    }

    /// <summary>The decompressed chunks of one term, read from its stored xorb.</summary>
    private List<byte[]> ReadTermChunks(XetTermRecord term, string context)
    {
        var layout = Layout(term.XorbHash)
            ?? throw RegistryException.BadRequest($"{context} names xorb {term.XorbHash}, which was never uploaded (POST /v1/xorbs/default/{term.XorbHash} first).");
        if (term.Start < 0 || term.End <= term.Start || term.End > layout.ChunkCount)
        {
            throw RegistryException.BadRequest($"{context} asks for chunks {term.Start}..{term.End} of xorb {term.XorbHash}, which has {layout.ChunkCount}.");
        }
        var (from, to) = layout.Bytes(term.Start, term.End);
        var bytes = new byte[to - from];
        using (var file = new FileStream(XorbPath(term.XorbHash), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess))
        {
            file.Position = from;
            file.ReadExactly(bytes);
        }
        return XorbReader.ReadChunks(bytes, $"{context} (xorb {term.XorbHash})");
    }

    /// <summary>
    /// Writes bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> of the file to
    /// <paramref name="destination"/>, rebuilt from its xorbs term by term.
    /// </summary>
    public async Task CopyRangeAsync(XetFileRecord file, long offset, long count, Stream destination, CancellationToken cancellationToken)
    {
        long position = 0;
        var end = offset + count;
        for (var t = 0; t < file.Terms.Count && position < end; t++)
        {
            var term = file.Terms[t];
            var termEnd = position + term.UnpackedLength;
            if (termEnd > offset)
            {
                foreach (var chunk in ReadTermChunks(term, $"file {file.FileHash} term {t}"))
                {
                    var chunkEnd = position + chunk.Length;
                    if (chunkEnd > offset && position < end)
                    {
                        var from = (int)Math.Max(0, offset - position);
                        var to = (int)Math.Min(chunk.Length, end - position);
                        await destination.WriteAsync(chunk.AsMemory(from, to - from), cancellationToken).ConfigureAwait(false);
                    }
                    position = chunkEnd;
                }
            }
            position = termEnd;
        }
    }
}
