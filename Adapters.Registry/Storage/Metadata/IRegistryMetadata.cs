namespace Adapters.Registry.Storage.Metadata;

/// <summary>
/// Where the registry keeps what is not a blob: repositories, refs (branches, tags, pull requests), commits and
/// discussions. Every write goes through <see cref="TryApply"/>, one transaction whose ref updates are
/// compare-and-set, so processes sharing one store (replicas on PostgreSQL) can never both move a ref from the
/// same commit. Implementations: <see cref="SqlRegistryMetadata"/> on SQLite (embedded) or PostgreSQL.
/// </summary>
internal interface IRegistryMetadata : IDisposable
{
    /// <summary>What the store is, for messages (e.g. <c>SQLite /data/registry.db</c>); never a password.</summary>
    string Description { get; }

    /// <summary>Xet storage's records (xorbs, chunk index, file reconstructions), in the same database.</summary>
    global::Adapters.Registry.Xet.XetMetadata Xet { get; }

    RepoMetadata? FindRepo(RepoKey key);

    /// <summary>Every repository of <paramref name="type"/>, in no particular order.</summary>
    IReadOnlyList<RepoMetadata> ListRepos(RepoType type);

    /// <summary>
    /// Creates the repository with its first commit and <paramref name="branch"/> pointing at it, all or nothing;
    /// false when a repository with that key exists.
    /// </summary>
    bool TryCreateRepo(RepoKey key, RepoMetadata metadata, CommitRecord initialCommit, string branch);

    /// <summary>
    /// Stores a whole repository as it was kept elsewhere (see <see cref="LegacyFolderImport"/>), all or nothing;
    /// false when a repository with that key exists.
    /// </summary>
    bool TryImportRepo(RepoKey key, RepoMetadata metadata, IReadOnlyList<CommitRecord> commits, IReadOnlyDictionary<string, string> refs, IReadOnlyList<DiscussionRecord> discussions);

    /// <summary>Removes the repository with its refs, commits and discussions; false when there was none.</summary>
    bool DeleteRepo(RepoKey key);

    /// <summary>Every ref of the repository and the commit it names.</summary>
    IReadOnlyDictionary<string, string> ReadRefs(RepoKey key);

    string? ReadRef(RepoKey key, string name);

    CommitRecord? FindCommit(RepoKey key, string id);

    /// <summary>The ids of the repository's commits that start with <paramref name="prefix"/> (lower-case hex), at most <paramref name="limit"/>.</summary>
    IReadOnlyList<string> CommitIdsStartingWith(RepoKey key, string prefix, int limit);

    /// <summary>The repository's discussions and pull requests, in no particular order.</summary>
    IReadOnlyList<DiscussionRecord> ListDiscussions(RepoKey key);

    DiscussionRecord? FindDiscussion(RepoKey key, int number);

    /// <summary>
    /// The setting <paramref name="name"/>; the first caller stores <paramref name="valueIfMissing"/>, and every
    /// caller, in any process sharing the store, gets the value that was stored first.
    /// </summary>
    string GetOrAddSetting(string name, string valueIfMissing);

    /// <summary>
    /// Applies <paramref name="change"/> in one transaction: the new commit, then each ref update only if the ref
    /// still holds its expected commit, then the discussion writes (a new one only if its number is free). Returns
    /// false and changes nothing when any of those conditions fails.
    /// </summary>
    bool TryApply(RepoKey key, MetadataChange change);
}
