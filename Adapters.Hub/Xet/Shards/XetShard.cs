namespace Adapters.Hub.Xet.Shards;

/// <summary>
/// A shard (the protocol's MDB format): the files an upload records, each as reconstruction terms over xorbs, and
/// the xorbs it introduces with their chunks. Clients POST one to <c>/v1/shards</c> to record files; the server
/// answers a global-dedupe query with one whose chunk hashes are keyed with <see cref="HmacKey"/>.
/// </summary>
/// <param name="Files">File entries, in the order they are written.</param>
/// <param name="Xorbs">Xorb entries, in the order they are written.</param>
public sealed record XetShard(IReadOnlyList<XetShardFileInfo> Files, IReadOnlyList<XetShardXorbInfo> Xorbs)
{
    /// <summary>The key the xorb entries' chunk hashes are keyed with; <see cref="XetHash.Zero"/> for plain hashes.</summary>
    public XetHash HmacKey { get; init; } = XetHash.Zero;

    /// <summary>When the shard was made, in seconds since the Unix epoch.</summary>
    public ulong CreatedUnixSeconds { get; init; }

    /// <summary>After when (seconds since the Unix epoch) its keyed hashes stop being valid; the maximum for never.</summary>
    public ulong ExpiresUnixSeconds { get; init; } = XetShardFormat.NoExpiry;

    /// <summary>Whether the xorb entries list keyed chunk hashes.</summary>
    public bool HasKeyedChunkHashes => HmacKey != XetHash.Zero;

    /// <summary>
    /// <paramref name="chunkHash"/> in the form this shard lists chunk hashes: keyed with <see cref="HmacKey"/> when
    /// the shard has one, unchanged otherwise. Compare it with the xorb entries' hashes to find a chunk.
    /// </summary>
    public XetHash ListedFormOf(XetHash chunkHash) =>
        HasKeyedChunkHashes ? XetHashing.KeyedChunkHash(chunkHash, HmacKey) : chunkHash;
}
