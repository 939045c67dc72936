namespace Adapters.Hub.Xet.Shards;

/// <summary>
/// A xorb's entry in a shard's CAS-info section: its hash, its chunks in xorb order, and its serialised size
/// (0 where the writer does not know it, as in the server's dedupe answers).
/// </summary>
/// <param name="XorbHash">The xorb hash.</param>
/// <param name="Chunks">The xorb's chunks in order; offsets are cumulative unpacked lengths.</param>
/// <param name="SerializedBytes">Length of the serialised xorb (<see cref="XorbWriter"/>'s output).</param>
/// <param name="Flags">Reserved flags; writers put 0.</param>
public sealed record XetShardXorbInfo(XetHash XorbHash, IReadOnlyList<XetShardXorbChunk> Chunks, int SerializedBytes, uint Flags = 0)
{
    /// <summary>The entry for a xorb holding <paramref name="chunks"/> (hash and length each), offsets computed.</summary>
    public static XetShardXorbInfo FromChunks(XetHash xorbHash, IReadOnlyList<XetChunkInfo> chunks, int serializedBytes)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var entries = new XetShardXorbChunk[chunks.Count];
        var offset = 0L;
        for (var i = 0; i < chunks.Count; i++)
        {
            if (offset + chunks[i].Length > int.MaxValue)
                throw new ArgumentException($"Xorb {xorbHash}: unpacked size exceeds {int.MaxValue} bytes.", nameof(chunks));
            entries[i] = new XetShardXorbChunk(chunks[i].Hash, (int)offset, (int)chunks[i].Length);
            offset += chunks[i].Length;
        }
        return new XetShardXorbInfo(xorbHash, entries, serializedBytes);
    }

    /// <summary>The xorb's unpacked size: the sum of its chunks' lengths.</summary>
    public long UnpackedBytes
    {
        get
        {
            long total = 0;
            foreach (var chunk in Chunks) total += chunk.UnpackedLength;
            return total;
        }
    }
}
