namespace Adapters.Hub.Xet.Shards;

/// <summary>
/// A file's entry in a shard: its Xet file hash, the terms that rebuild it in order, and optionally one verification
/// hash per term (<see cref="XetHashing.VerificationHash"/> over the term's chunk hashes, which proves the uploader
/// holds those chunks) and the file's SHA-256.
/// </summary>
public sealed record XetShardFileInfo
{
    /// <summary>Creates a file entry.</summary>
    /// <param name="fileHash">The file hash (<see cref="XetHashing.FileHash(IReadOnlyList{XetChunkInfo})"/>).</param>
    /// <param name="segments">The reconstruction terms, in file order.</param>
    /// <param name="verificationHashes">One hash per term, or null for none.</param>
    /// <param name="sha256">The file's SHA-256 as 64 lowercase hex digits, or null for none.</param>
    public XetShardFileInfo(XetHash fileHash, IReadOnlyList<XetShardFileSegment> segments,
        IReadOnlyList<XetHash>? verificationHashes = null, string? sha256 = null)
    {
        ArgumentNullException.ThrowIfNull(segments);
        if (verificationHashes is not null && verificationHashes.Count != segments.Count)
            throw new ArgumentException(
                $"File {fileHash}: {verificationHashes.Count} verification hashes for {segments.Count} segments; a shard carries one per segment.",
                nameof(verificationHashes));
        if (sha256 is not null && (sha256.Length != 64 || !XetHash.TryParse(sha256, out _)))
            throw new ArgumentException($"File {fileHash}: SHA-256 must be 64 hex digits.", nameof(sha256));
        FileHash = fileHash;
        Segments = segments;
        VerificationHashes = verificationHashes;
        Sha256 = sha256?.ToLowerInvariant();
    }

    /// <summary>The Xet file hash.</summary>
    public XetHash FileHash { get; }

    /// <summary>The reconstruction terms, in file order.</summary>
    public IReadOnlyList<XetShardFileSegment> Segments { get; }

    /// <summary>One verification hash per segment, or null when the entry carries none.</summary>
    public IReadOnlyList<XetHash>? VerificationHashes { get; }

    /// <summary>The file's SHA-256 (lowercase hex) from the metadata extension, or null when absent.</summary>
    public string? Sha256 { get; }

    /// <summary>The file's length: the sum of its segments' unpacked bytes.</summary>
    public long Length
    {
        get
        {
            long total = 0;
            foreach (var segment in Segments) total += segment.UnpackedBytes;
            return total;
        }
    }
}
