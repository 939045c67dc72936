namespace Adapters.Hub.Xet.Shards;

/// <summary>
/// Fixed numbers of the shard (MDB) layout: every record in the file-info and xorb-info sections is 48 bytes, the
/// header 48 and the footer 200, all integers little-endian and hashes in their 32-byte form.
/// </summary>
internal static class XetShardFormat
{
    /// <summary>The 32-byte magic tag every shard starts with.</summary>
    public static ReadOnlySpan<byte> HeaderTag =>
    [
        (byte)'H', (byte)'F', (byte)'R', (byte)'e', (byte)'p', (byte)'o', (byte)'M', (byte)'e',
        (byte)'t', (byte)'a', (byte)'D', (byte)'a', (byte)'t', (byte)'a', 0, 85,
        105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169,
    ];

    public const ulong HeaderVersion = 2;
    public const ulong FooterVersion = 1;
    public const int HeaderSize = 48;
    public const int FooterSize = 200;

    /// <summary>Size of every file-info and xorb-info record (headers, segments, verification, metadata, chunks).</summary>
    public const int EntrySize = 48;

    /// <summary>A file lookup or xorb lookup row: truncated hash (u64) then entry index (u32).</summary>
    public const int HashIndexLookupSize = 12;

    /// <summary>A chunk lookup row: truncated hash (u64), xorb entry index (u32), chunk position (u32).</summary>
    public const int ChunkLookupSize = 16;

    /// <summary>File flag: one verification record per segment follows the segments.</summary>
    public const uint FileFlagWithVerification = 1u << 31;

    /// <summary>File flag: one metadata-extension record (the file's SHA-256) follows.</summary>
    public const uint FileFlagWithMetadataExt = 1u << 30;

    /// <summary>Writers that set no expiry put the largest value there.</summary>
    public const ulong NoExpiry = ulong.MaxValue;

    /// <summary>A section ends with a record whose hash is all one bits (the bookend).</summary>
    public static bool IsBookend(ReadOnlySpan<byte> hash)
    {
        foreach (var b in hash[..XetHash.Size])
        {
            if (b != 0xFF) return false;
        }
        return true;
    }
}
