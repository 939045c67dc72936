using System.Globalization;
using System.Text;

namespace Adapters.Hub.Xet;

/// <summary>
/// The Xet specification's hash functions: chunk hashes (BLAKE3 keyed with DATA_KEY), xorb and file hashes (a Merkle
/// tree whose internal nodes are BLAKE3 keyed with INTERNAL_NODE_KEY over "hash : length" lines, grouped by the
/// content-defined aggregation rule), and term verification hashes (BLAKE3 keyed with VERIFICATION_KEY over raw chunk
/// hashes).
/// </summary>
public static class XetHashing
{
    // The spec's keys; each was drawn at random once and is fixed by the protocol.
    private static ReadOnlySpan<byte> DataKey =>
    [
        102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28,
        157, 228, 33, 16, 155, 235, 43, 88, 180, 208, 176, 75, 147, 173, 242, 41,
    ];

    private static ReadOnlySpan<byte> InternalNodeKey =>
    [
        1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230,
        93, 221, 83, 111, 55, 199, 109, 210, 248, 99, 82, 230, 74, 83, 113, 63,
    ];

    private static ReadOnlySpan<byte> VerificationKey =>
    [
        127, 24, 87, 214, 206, 86, 237, 102, 18, 127, 249, 19, 231, 165, 195, 243,
        164, 205, 38, 213, 181, 219, 73, 230, 65, 36, 152, 127, 40, 251, 148, 195,
    ];

    /// <summary>A group of Merkle children closes early where a child's last word is divisible by this.</summary>
    private const ulong MeanBranchingFactor = 4;

    /// <summary>The most children one internal node takes.</summary>
    private const int MaxGroupSize = 2 * (int)MeanBranchingFactor + 1;

    /// <summary>The chunk hash of <paramref name="chunk"/>.</summary>
    public static XetHash ChunkHash(ReadOnlySpan<byte> chunk) => KeyedHash(DataKey, chunk);

    /// <summary>The xorb hash of the chunks a xorb holds, in order; <see cref="XetHash.Zero"/> for none.</summary>
    public static XetHash XorbHash(IReadOnlyList<XetChunkInfo> chunks) =>
        chunks.Count == 0 ? XetHash.Zero : MerkleRoot(chunks);

    /// <summary>The file hash (the one the Hub lists as <c>xetHash</c>): the Merkle root keyed again with a zero salt.</summary>
    public static XetHash FileHash(IReadOnlyList<XetChunkInfo> chunks) => FileHash(chunks, XetHash.Zero);

    /// <summary>The file hash with an explicit salt; <see cref="XetHash.Zero"/> for no chunks whatever the salt.</summary>
    public static XetHash FileHash(IReadOnlyList<XetChunkInfo> chunks, XetHash salt)
    {
        if (chunks.Count == 0) return XetHash.Zero;
        Span<byte> key = stackalloc byte[XetHash.Size];
        salt.CopyTo(key);
        Span<byte> root = stackalloc byte[XetHash.Size];
        MerkleRoot(chunks).CopyTo(root);
        return KeyedHash(key, root);
    }

    /// <summary>
    /// The verification hash of a reconstruction term: keyed BLAKE3 over the raw 32-byte hashes of the chunks the
    /// term covers, in order. Shards carry it so a server can check that an uploader really holds those chunks.
    /// </summary>
    public static XetHash VerificationHash(IReadOnlyList<XetHash> chunkHashes)
    {
        using var hasher = Blake3.Hasher.NewKeyed(VerificationKey);
        Span<byte> bytes = stackalloc byte[XetHash.Size];
        foreach (var hash in chunkHashes)
        {
            hash.CopyTo(bytes);
            hasher.Update(bytes);
        }
        Span<byte> digest = stackalloc byte[XetHash.Size];
        hasher.Finalize(digest);
        return XetHash.FromBytes(digest);
    }

    /// <summary>
    /// The keyed form of <paramref name="chunkHash"/> under a shard's HMAC key (BLAKE3 keyed with
    /// <paramref name="key"/> over the hash's 32 bytes). A server that answers a dedupe query lists chunk hashes in
    /// this form, so only a client that already holds a chunk can recognise it.
    /// </summary>
    public static XetHash KeyedChunkHash(XetHash chunkHash, XetHash key)
    {
        Span<byte> keyBytes = stackalloc byte[XetHash.Size];
        key.CopyTo(keyBytes);
        Span<byte> hashBytes = stackalloc byte[XetHash.Size];
        chunkHash.CopyTo(hashBytes);
        return KeyedHash(keyBytes, hashBytes);
    }

    /// <summary>The root of the aggregated Merkle tree over non-empty <paramref name="chunks"/>.</summary>
    private static XetHash MerkleRoot(IReadOnlyList<XetChunkInfo> chunks)
    {
        var level = new List<XetChunkInfo>(chunks);
        var text = new StringBuilder(MaxGroupSize * 88);
        while (level.Count > 1)
        {
            var next = new List<XetChunkInfo>(level.Count / 2 + 1);
            for (var start = 0; start < level.Count;)
            {
                var end = start + GroupLength(level, start);
                next.Add(MergeGroup(level, start, end, text));
                start = end;
            }
            level = next;
        }
        return level[0].Hash;
    }

    /// <summary>
    /// How many nodes from <paramref name="start"/> form the next parent: all when at most two remain; otherwise it
    /// closes after the first node at index two or later (within the group) whose hash is a natural cut, and never
    /// exceeds <see cref="MaxGroupSize"/>.
    /// </summary>
    private static int GroupLength(List<XetChunkInfo> nodes, int start)
    {
        var remaining = nodes.Count - start;
        if (remaining <= 2) return remaining;
        var end = Math.Min(MaxGroupSize, remaining);
        for (var i = 2; i < end; i++)
        {
            if (nodes[start + i].Hash.LastWord % MeanBranchingFactor == 0) return i + 1;
        }
        return end;
    }

    private static XetChunkInfo MergeGroup(List<XetChunkInfo> nodes, int start, int end, StringBuilder text)
    {
        text.Clear();
        long total = 0;
        for (var i = start; i < end; i++)
        {
            text.Append(nodes[i].Hash.ToString()).Append(" : ")
                .Append(nodes[i].Length.ToString(CultureInfo.InvariantCulture)).Append('\n');
            total += nodes[i].Length;
        }
        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        return new XetChunkInfo(KeyedHash(InternalNodeKey, bytes), total);
    }

    private static XetHash KeyedHash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        using var hasher = Blake3.Hasher.NewKeyed(key);
        hasher.Update(data);
        Span<byte> digest = stackalloc byte[XetHash.Size];
        hasher.Finalize(digest);
        return XetHash.FromBytes(digest);
    }
}
