namespace Adapters.Hub.Cache;

/// <summary>One file of a cached revision.</summary>
/// <param name="Path">Path inside the repository (<c>/</c> separators).</param>
/// <param name="SnapshotPath">The entry under <c>snapshots/&lt;commit&gt;/</c>.</param>
/// <param name="BlobPath">The blob it points to (the entry itself when the cache holds copies).</param>
/// <param name="Size">Size in bytes.</param>
public sealed record CachedFile(string Path, string SnapshotPath, string BlobPath, long Size);

/// <summary>One cached revision (a folder under <c>snapshots/</c>).</summary>
/// <param name="CommitHash">The commit.</param>
/// <param name="SnapshotPath">Its folder.</param>
/// <param name="Refs">Branches and tags pointing to it.</param>
/// <param name="Files">Its files.</param>
/// <param name="SizeOnDisk">Bytes of the distinct blobs it uses.</param>
public sealed record CachedRevision(string CommitHash, string SnapshotPath, IReadOnlyList<string> Refs, IReadOnlyList<CachedFile> Files, long SizeOnDisk);

/// <summary>One cached repository.</summary>
/// <param name="RepoId">The repository id.</param>
/// <param name="RepoType">Its type.</param>
/// <param name="RepoPath">Its folder.</param>
/// <param name="Revisions">Cached revisions.</param>
/// <param name="Refs">Every ref and the commit it points to.</param>
/// <param name="SizeOnDisk">Bytes of the distinct blobs of all revisions.</param>
/// <param name="BlobCount">Number of distinct blobs.</param>
/// <param name="LastModified">Most recent change of any blob.</param>
public sealed record CachedRepo(
    string RepoId,
    RepoType RepoType,
    string RepoPath,
    IReadOnlyList<CachedRevision> Revisions,
    IReadOnlyDictionary<string, string> Refs,
    long SizeOnDisk,
    int BlobCount,
    DateTimeOffset? LastModified);

/// <summary>What <see cref="CacheScanner.Scan"/> found.</summary>
/// <param name="CacheDirectory">The scanned folder.</param>
/// <param name="Repos">Repositories, sorted by type and id.</param>
/// <param name="Warnings">Entries that are not a valid cached repository, as Python's <c>CorruptedCacheException</c> list.</param>
/// <param name="SizeOnDisk">Total bytes of all repositories.</param>
public sealed record CacheReport(string CacheDirectory, IReadOnlyList<CachedRepo> Repos, IReadOnlyList<string> Warnings, long SizeOnDisk);
