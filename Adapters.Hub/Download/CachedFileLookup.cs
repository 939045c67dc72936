namespace Adapters.Hub.Download;

/// <summary>What the cache knows about one file at a revision, without any network.</summary>
public enum CachedFileStatus
{
    /// <summary>Nothing is recorded: the revision is unknown locally, or the file was never asked for.</summary>
    NotCached,

    /// <summary>The file is in the snapshot.</summary>
    Cached,

    /// <summary>The Hub said the file does not exist at that commit (a <c>.no_exist</c> marker, Python's <c>_CACHED_NO_EXIST</c>).</summary>
    KnownMissing,
}

/// <summary>The answer of <see cref="FilesClient.LookUpCachedFile"/>.</summary>
/// <param name="Status">Cached, known to be missing, or not cached.</param>
/// <param name="Path">The snapshot entry (for <see cref="CachedFileStatus.Cached"/>) or the <c>.no_exist</c> marker (for <see cref="CachedFileStatus.KnownMissing"/>).</param>
/// <param name="CommitHash">The commit the revision resolved to locally, when it did.</param>
public sealed record CachedFileLookup(CachedFileStatus Status, string? Path, string? CommitHash);
