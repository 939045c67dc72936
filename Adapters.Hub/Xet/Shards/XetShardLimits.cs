namespace Adapters.Hub.Xet.Shards;

/// <summary>Bounds a shard parser enforces before it allocates anything for untrusted input.</summary>
public sealed record XetShardLimits
{
    /// <summary>The defaults: room for the reference clients' 64 MiB shards, xorbs as <see cref="XorbLimits.Default"/>.</summary>
    public static XetShardLimits Default { get; } = new();

    /// <summary>
    /// Largest serialised shard accepted. The reference clients close a shard near 64 MiB and may overshoot by their
    /// last file's records, so the default allows twice that.
    /// </summary>
    public long MaxSerializedBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Most chunks one xorb entry may list (a xorb holds at most 8192).</summary>
    public int MaxChunksPerXorb { get; init; } = XorbLimits.Default.MaxChunks;

    /// <summary>Largest unpacked chunk length an entry may declare.</summary>
    public int MaxChunkLength { get; init; } = XorbLimits.Default.MaxChunkLength;
}
