using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Adapters.Hub.Cache;
using Adapters.Registry.Storage.Metadata;
using Adapters.Registry.Storage.ObjectStorage;

namespace Adapters.Registry.Storage;

/// <summary>
/// The registry: metadata (repositories, refs, commits, discussions) in an <see cref="IRegistryMetadata"/>
/// (<c>registry.db</c>, SQLite, under the root by default; PostgreSQL when configured) and blobs under the root:
/// <code>
/// objects/lfs|git/..   content-addressed blobs (see <see cref="BlobStore"/>)
/// tmp/                 uploads in progress, emptied at start
/// </code>
/// A commit becomes visible only when its ref moves, in the same transaction that stores the commit and after
/// every blob it names is on disk; a crash at any point leaves the previous head intact. Every ref update is a
/// compare-and-set on the commit it replaces, so writers that share the metadata (replicas on PostgreSQL) cannot
/// both win; the per-repository locks only spare one process from racing itself.
/// </summary>
internal sealed partial class RegistryStore : IDisposable
{
    /// <summary>The branch a new repository gets and that <c>HEAD</c> names.</summary>
    public const string DefaultBranch = "main";

    /// <summary>How often a commit without a parent is rebuilt on a head that another writer moved meanwhile.</summary>
    private const int MaxCommitAttempts = 8;

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly FileStream _ownership;
    private readonly IRegistryMetadata _metadata;
    private readonly IObjectStorage? _objectStorage;

    /// <summary>How long a replica's <c>tmp/</c> folder may sit untouched before another replica takes it for abandoned (a killed process).</summary>
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromDays(1);

    /// <summary>This process's upload folder on a shared root, removed on dispose; null on a root of its own.</summary>
    private readonly string? _ownTemp;

    /// <summary>
    /// Opens the registry under <paramref name="root"/>. Metadata comes from <paramref name="openMetadata"/>
    /// (called once the root is owned), or from <c>registry.db</c> under the root when it is null.
    /// </summary>
    /// <param name="root">The folder of blobs (and of the SQLite metadata by default).</param>
    /// <param name="openMetadata">Opens shared metadata (PostgreSQL); null for SQLite under the root.</param>
    /// <param name="sharedRoot">
    /// Whether other processes (replicas on the same shared metadata) may serve the same root at once. Without it the
    /// root is this process's alone and <c>tmp/</c> is emptied at start; with it each process keeps its uploads in
    /// <c>tmp/replica-ID/</c> and removes only folders there that no process has touched for a day.
    /// </param>
    /// <param name="objectStorage">Where blobs are written through to (S3); null keeps them in the root only. Disposed with the store.</param>
    public RegistryStore(string root, Func<IRegistryMetadata>? openMetadata = null, bool sharedRoot = false, IObjectStorage? objectStorage = null)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
        // registry.lock: exclusive for a root of one process (the tmp/ cleanup below assumes no other writer),
        // shared between replicas; either kind keeps the other out.
        try
        {
            _ownership = new FileStream(Path.Combine(Root, "registry.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, sharedRoot ? FileShare.ReadWrite : FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException(sharedRoot
                ? $"The registry in {Root} is served by a process that does not share it (registry.lock is held exclusively); replicas need shared metadata on every one of them."
                : $"The registry in {Root} is already served by another process (registry.lock is held).", ex);
        }
        var temp = Path.Combine(Root, "tmp");
        try
        {
            if (!sharedRoot)
            {
                // Whatever is in tmp/ belongs to uploads or deletions that a previous process never finished.
                if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            }
            else
            {
                SweepAbandonedReplicaFolders(temp);
                temp = Path.Combine(temp, "replica-" + Guid.NewGuid().ToString("N"));
            }
            Blobs = new BlobStore(Path.Combine(Root, "objects"), temp, objectStorage);
            _objectStorage = objectStorage;
            _metadata = openMetadata?.Invoke() ?? SqlRegistryMetadata.OpenSqlite(Path.Combine(Root, "registry.db"));
        }
        catch
        {
            _ownership.Dispose();
            throw;
        }
        try
        {
            // A root written before metadata lived in a database: bring its repositories along.
            LegacyFolderImport.ImportIfPresent(Root, _metadata);
        }
        catch
        {
            _metadata.Dispose();
            _ownership.Dispose();
            throw;
        }
        _ownTemp = sharedRoot ? temp : null;
    }

    private static void SweepAbandonedReplicaFolders(string temp)
    {
        if (!Directory.Exists(temp)) return;
        foreach (var folder in Directory.EnumerateDirectories(temp, "replica-*"))
        {
            if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) < AbandonedAfter) continue;
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Another replica sweeping the same folder at once; whoever finishes, it is gone.
            }
        }
    }

    public string Root { get; }

    public BlobStore Blobs { get; }

    /// <summary>Where the metadata lives, for messages.</summary>
    public string MetadataDescription => _metadata.Description;

    /// <summary>Closes the metadata and releases the root for another server.</summary>
    public void Dispose()
    {
        _metadata.Dispose();
        _objectStorage?.Dispose();
        if (_ownTemp is not null && Directory.Exists(_ownTemp)) Directory.Delete(_ownTemp, recursive: true);
        _ownership.Dispose();
    }

    /// <summary>
    /// The key of presigned blob URLs, made once and kept in the metadata, so a URL one replica signed is honoured
    /// by every other (behind a load balancer the redirect and the download may reach different replicas) and
    /// across restarts within its lifetime.
    /// </summary>
    public byte[] UrlSigningKey() =>
        Convert.FromHexString(_metadata.GetOrAddSetting("url-signing-key", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))));

    /// <summary>The stored ref name of a tag.</summary>
    public static string TagRef(string tag) => "refs/tags/" + tag;

    private SemaphoreSlim LockOf(RepoKey key) => _locks.GetOrAdd($"{key.Type}/{key.Id}", _ => new SemaphoreSlim(1, 1));

    /// <summary>Xet storage's records, in the same database as the rest of the metadata.</summary>
    public global::Adapters.Registry.Xet.XetMetadata Xet => _metadata.Xet;

    public RepoMetadata? FindRepo(RepoKey key) => _metadata.FindRepo(key);

    public RepoMetadata GetRepo(RepoKey key) => FindRepo(key) ?? throw RegistryException.RepoNotFound(key.ToString());

    /// <summary>The repositories of <paramref name="type"/>, ordered as their folders were (<c>/</c> read as <c>--</c>, ordinal), so listings page stably.</summary>
    public IEnumerable<(RepoKey Key, RepoMetadata Metadata)> ListRepos(RepoType type) =>
        _metadata.ListRepos(type)
            .Select(metadata => (Key: new RepoKey(type, metadata.Id), Metadata: metadata))
            .OrderBy(repo => repo.Key.FolderName, StringComparer.Ordinal);

    /// <summary>
    /// Creates a repository with an initial commit holding a <c>.gitattributes</c> (as the Hub does) plus
    /// <paramref name="initialFiles"/>, in one metadata transaction, so a repository either exists completely or not at all.
    /// </summary>
    public async Task<RepoMetadata> CreateRepoAsync(RepoKey key, bool isPrivate, IReadOnlyList<(string Path, byte[] Content)> initialFiles, CancellationToken cancellationToken)
    {
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_metadata.FindRepo(key) is not null) throw AlreadyCreated(key);
            var metadata = new RepoMetadata
            {
                ObjectId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
                Id = key.Id,
                Type = key.Type.Singular(),
                Private = isPrivate,
                CreatedAt = DateTimeOffset.UtcNow,
            };
            var files = new SortedDictionary<string, FileRecord>(StringComparer.Ordinal);
            foreach (var (path, content) in initialFiles.Prepend((".gitattributes", Encoding.UTF8.GetBytes(DefaultGitAttributes))))
            {
                RepoFilePaths.Validate(path);
                files[path] = new FileRecord(Blobs.PutGitBlob(content), content.Length, Lfs: false);
            }
            var commit = Seal(new CommitRecord { Parents = [], Title = "initial commit", Date = metadata.CreatedAt, Author = "system", Files = files });
            // Another writer on the same metadata may have created it since the check above.
            if (!_metadata.TryCreateRepo(key, metadata, commit, DefaultBranch)) throw AlreadyCreated(key);
            return metadata;
        }
        finally
        {
            gate.Release();
        }
    }

    private static RegistryException AlreadyCreated(RepoKey key) => new(409, null, $"You already created this {key.Type.Singular()} repo: {key.Id}");

    /// <summary>Deletes a repository's metadata in one transaction. Blobs stay, as they may be shared.</summary>
    public async Task DeleteRepoAsync(RepoKey key, CancellationToken cancellationToken)
    {
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_metadata.DeleteRepo(key)) throw RegistryException.RepoNotFound(key.ToString());
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Every ref of the repository (branches, <c>refs/tags/T</c> for tags, <c>refs/pr/N</c> for pull requests) and its commit.</summary>
    public IReadOnlyDictionary<string, string> ReadRefs(RepoKey key)
    {
        GetRepo(key);
        return _metadata.ReadRefs(key);
    }

    public CommitRecord ReadCommit(RepoKey key, string id) =>
        _metadata.FindCommit(key, id) ?? throw new InvalidDataException($"{_metadata.Description}: commit {id} of {key} is named but not stored.");

    /// <summary>
    /// Resolves a branch (also <c>HEAD</c>, <c>refs/heads/x</c>), a tag (<c>v1</c> or <c>refs/tags/v1</c>; a branch
    /// of the same name wins, as in git), a pull request (<c>refs/pr/N</c>) or a full commit id.
    /// </summary>
    public ResolvedRevision Resolve(RepoKey key, string revision)
    {
        var repo = GetRepo(key);
        foreach (var name in RefCandidates(revision))
        {
            if (IsValidRefName(name) && _metadata.ReadRef(key, name) is { } id)
            {
                return new ResolvedRevision(repo, id, ReadCommit(key, id));
            }
        }
        if (ContentHashes.IsSha1(revision) && _metadata.FindCommit(key, revision) is { } commit)
        {
            return new ResolvedRevision(repo, revision, commit);
        }
        throw RegistryException.RevisionNotFound(key.ToString(), revision);
    }

    private static IEnumerable<string> RefCandidates(string revision)
    {
        if (revision == "HEAD")
        {
            yield return DefaultBranch;
        }
        else if (revision.StartsWith("refs/heads/", StringComparison.Ordinal))
        {
            yield return revision["refs/heads/".Length..];
        }
        else
        {
            yield return revision;
            if (!revision.StartsWith("refs/", StringComparison.Ordinal)) yield return TagRef(revision);
        }
    }

    /// <summary>
    /// The commits reachable from <paramref name="commitId"/>, newest first (git log order by date; a merge
    /// lists both sides). Bounded by the repository's own stored commits, so a cycle cannot loop.
    /// </summary>
    public IReadOnlyList<CommitRecord> History(RepoKey key, string commitId)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { commitId };
        var pending = new Queue<CommitRecord>([ReadCommit(key, commitId)]);
        var commits = new List<CommitRecord>();
        while (pending.TryDequeue(out var commit))
        {
            commits.Add(commit);
            foreach (var parent in commit.Parents)
            {
                if (seen.Add(parent) && _metadata.FindCommit(key, parent) is { } stored) pending.Enqueue(stored);
            }
        }
        return commits.OrderByDescending(c => c.Date).ToList();
    }

    /// <summary>Creates <paramref name="branch"/> at <paramref name="startingPoint"/> (default: the head of main).</summary>
    public async Task CreateBranchAsync(RepoKey key, string branch, string? startingPoint, CancellationToken cancellationToken)
    {
        if (!IsValidRefName(branch) || branch.StartsWith("refs/", StringComparison.Ordinal))
        {
            throw RegistryException.BadRequest($"'{branch}' is not a valid branch name.");
        }
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var start = Resolve(key, startingPoint ?? DefaultBranch);
            if (!_metadata.TryApply(key, new MetadataChange { Refs = [new RefUpdate(branch, Expected: null, start.CommitId)] }))
            {
                throw new RegistryException(409, null, $"Reference refs/heads/{branch} already exists");
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task DeleteBranchAsync(RepoKey key, string branch, CancellationToken cancellationToken)
    {
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            GetRepo(key);
            if (branch == DefaultBranch) throw RegistryException.BadRequest("The default branch cannot be deleted.");
            // Tags and pull requests are refs/ names: they are not branches and have their own routes.
            var current = IsValidRefName(branch) && !branch.StartsWith("refs/", StringComparison.Ordinal) ? _metadata.ReadRef(key, branch) : null;
            if (current is null || !_metadata.TryApply(key, new MetadataChange { Refs = [new RefUpdate(branch, current, Target: null)] }))
            {
                throw RegistryException.RevisionNotFound(key.ToString(), branch);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Tags the commit <paramref name="revision"/> resolves to (a branch, tag, full or unambiguous short commit
    /// id). An existing tag is a 409, an unknown revision a RevisionNotFound.
    /// </summary>
    public async Task CreateTagAsync(RepoKey key, string revision, string tag, CancellationToken cancellationToken)
    {
        if (!IsValidRefName(tag) || tag.StartsWith("refs/", StringComparison.Ordinal))
        {
            throw RegistryException.BadRequest($"'{tag}' is not a valid tag name: no spaces, '..', '~', '^', ':', '?', '*', '[', '\\', control characters or empty parts.");
        }
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            GetRepo(key);
            ResolvedRevision target;
            try
            {
                target = Resolve(key, revision);
            }
            catch (RegistryException) when (IsShortCommitId(revision))
            {
                // Not a ref: a short commit id, as the Hub accepts for tags (7 hex digits from a commit URL).
                target = ResolveCommitPrefix(key, revision);
            }
            if (!_metadata.TryApply(key, new MetadataChange { Refs = [new RefUpdate(TagRef(tag), Expected: null, target.CommitId)] }))
            {
                throw new RegistryException(409, null, $"Tag reference {TagRef(tag)} already exists");
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Deletes a tag (<c>v1</c> or <c>refs/tags/v1</c>); a missing one is a RevisionNotFound.</summary>
    public async Task DeleteTagAsync(RepoKey key, string tag, CancellationToken cancellationToken)
    {
        var name = tag.StartsWith("refs/tags/", StringComparison.Ordinal) ? tag : TagRef(tag);
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            GetRepo(key);
            var current = IsValidRefName(name) ? _metadata.ReadRef(key, name) : null;
            if (current is null || !_metadata.TryApply(key, new MetadataChange { Refs = [new RefUpdate(name, current, Target: null)] }))
            {
                throw RegistryException.RevisionNotFound(key.ToString(), tag);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Replaces the history of <paramref name="branch"/> by one root commit holding its current files
    /// (<c>super_squash_history</c>). Tags and pull requests are not branches (400); an unknown branch is a
    /// RevisionNotFound. Older commits stay stored for the refs that still name them.
    /// </summary>
    public async Task<string> SuperSquashAsync(RepoKey key, string branch, string message, string author, CancellationToken cancellationToken)
    {
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            GetRepo(key);
            if (branch.StartsWith("refs/heads/", StringComparison.Ordinal)) branch = branch["refs/heads/".Length..];
            if (branch.StartsWith("refs/", StringComparison.Ordinal) || ContentHashes.IsSha1(branch))
            {
                throw RegistryException.BadRequest($"'{branch}' is not a branch; only a branch can be squashed.");
            }
            if (!IsValidRefName(branch) || _metadata.ReadRef(key, branch) is null) throw RegistryException.RevisionNotFound(key.ToString(), branch);
            var head = Resolve(key, branch);
            var squashed = Seal(new CommitRecord
            {
                Parents = [],
                Title = message,
                Date = DateTimeOffset.UtcNow,
                Author = author,
                Files = new SortedDictionary<string, FileRecord>(head.Commit.Files.ToDictionary(f => f.Key, f => f.Value with { LastCommit = null }, StringComparer.Ordinal), StringComparer.Ordinal),
            }, head.Commit.Files.Keys.ToList());
            if (!_metadata.TryApply(key, new MetadataChange { NewCommit = squashed, Refs = [new RefUpdate(branch, head.CommitId, squashed.Id)] }))
            {
                throw BranchMoved(branch);
            }
            return squashed.Id;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>412 with the Hub's own words for a stale <c>parent_commit</c>: another writer moved <paramref name="branch"/> first.</summary>
    private static RegistryException BranchMoved(string branch) =>
        new(412, null, $"The branch was updated since you opened this page. Please refresh and try again. (branch: {branch})");

    private static bool IsShortCommitId(string revision) => revision.Length is >= 5 and < 40 && revision.All(char.IsAsciiHexDigitLower);

    /// <summary>
    /// Applies <paramref name="request"/> on top of <paramref name="branch"/>. A <see cref="CommitRequest.ParentCommit"/>
    /// that is not the branch head is refused with 412, as the Hub does, also when another writer moves the head
    /// between our read and our compare-and-set; without a parent the commit is rebuilt on the new head.
    /// With <paramref name="createPullRequest"/> the commit goes to a new <c>refs/pr/N</c> instead.
    /// </summary>
    public async Task<CommitOutcome> CommitAsync(RepoKey key, string branch, CommitRequest request, bool createPullRequest, CancellationToken cancellationToken)
    {
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            GetRepo(key);
            if (branch == "HEAD") branch = DefaultBranch;
            if (branch.StartsWith("refs/heads/", StringComparison.Ordinal)) branch = branch["refs/heads/".Length..];
            // Commits go to branches and pull requests; a tag never moves.
            var committable = !branch.StartsWith("refs/", StringComparison.Ordinal) || branch.StartsWith("refs/pr/", StringComparison.Ordinal);
            if (!committable || !IsValidRefName(branch) || (createPullRequest && branch.StartsWith("refs/", StringComparison.Ordinal)))
            {
                throw RegistryException.RevisionNotFound(key.ToString(), branch);
            }
            for (var attempt = 1; ; attempt++)
            {
                if (TryCommit(key, branch, request, createPullRequest) is { } outcome) return outcome;
                if (request.ParentCommit is { Length: > 0 } && !createPullRequest) throw BranchMoved(branch);
                if (attempt == MaxCommitAttempts)
                {
                    throw new RegistryException(409, null, $"{branch} of {key} kept moving under {MaxCommitAttempts} attempts to commit; try again.");
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>One attempt of <see cref="CommitAsync"/>: null when another writer moved a ref it read.</summary>
    private CommitOutcome? TryCommit(RepoKey key, string branch, CommitRequest request, bool createPullRequest)
    {
        if (_metadata.ReadRef(key, branch) is null) throw RegistryException.RevisionNotFound(key.ToString(), branch);
        var head = Resolve(key, branch);
        var baseCommit = head;
        if (request.ParentCommit is { Length: > 0 } parent)
        {
            if (createPullRequest)
            {
                baseCommit = ResolveCommitPrefix(key, parent);
            }
            else if (!head.CommitId.StartsWith(parent, StringComparison.OrdinalIgnoreCase) || parent.Length < 5)
            {
                throw BranchMoved(branch);
            }
        }

        var files = new SortedDictionary<string, FileRecord>(baseCommit.Commit.Files, StringComparer.Ordinal);
        var touched = new List<string>();
        foreach (var change in request.Changes)
        {
            switch (change)
            {
                case FileChange.Put put:
                    files[put.Path] = put.File;
                    touched.Add(put.Path);
                    break;
                case FileChange.DeleteFile delete:
                    if (!files.Remove(delete.Path)) throw new RegistryException(404, "EntryNotFound", $"A file with this name doesn't exist: {delete.Path}");
                    break;
                case FileChange.DeleteFolder folderChange:
                    var prefix = folderChange.Path.TrimEnd('/') + "/";
                    var removed = files.Keys.Where(p => p.StartsWith(prefix, StringComparison.Ordinal)).ToList();
                    if (removed.Count == 0) throw new RegistryException(404, "EntryNotFound", $"A folder with this name doesn't exist: {folderChange.Path}");
                    foreach (var path in removed) files.Remove(path);
                    break;
            }
        }
        CheckNoFileFolderClash(files.Keys);

        var commit = Seal(new CommitRecord
        {
            Parents = [baseCommit.CommitId],
            Title = request.Summary,
            Description = request.Description,
            Date = DateTimeOffset.UtcNow,
            Author = request.Author,
            Files = files,
        }, touched);

        if (createPullRequest)
        {
            // The pull request (record and ref) appears with its commit, or not at all.
            var pullRequest = NewPullRequest(key, request.Summary, request.Description, request.Author, branch, baseCommit.CommitId, DiscussionStatus.Open, commit);
            var opened = _metadata.TryApply(key, new MetadataChange
            {
                NewCommit = commit,
                Refs = [new RefUpdate(DiscussionRecord.PullRequestRef(pullRequest.Number), Expected: null, commit.Id)],
                Discussions = [new DiscussionWrite(pullRequest, IsNew: true)],
            });
            return opened ? new CommitOutcome(commit.Id, pullRequest.Number) : null;
        }
        var recorded = branch.StartsWith("refs/pr/", StringComparison.Ordinal) ? PullRequestWithCommit(key, branch, commit, request.Author) : null;
        var moved = _metadata.TryApply(key, new MetadataChange
        {
            NewCommit = commit,
            Refs = [new RefUpdate(branch, head.CommitId, commit.Id)],
            Discussions = recorded is null ? [] : [new DiscussionWrite(recorded, IsNew: false)],
        });
        return moved ? new CommitOutcome(commit.Id, null) : null;
    }

    private ResolvedRevision ResolveCommitPrefix(RepoKey key, string prefix)
    {
        var matches = prefix.Length >= 5 && prefix.All(char.IsAsciiHexDigit) ? _metadata.CommitIdsStartingWith(key, prefix.ToLowerInvariant(), limit: 2) : [];
        if (matches.Count != 1) throw RegistryException.RevisionNotFound(key.ToString(), prefix);
        return Resolve(key, matches[0]);
    }

    private static void CheckNoFileFolderClash(IEnumerable<string> paths)
    {
        var set = paths.ToHashSet(StringComparer.Ordinal);
        foreach (var path in set)
        {
            for (var slash = path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = path.IndexOf('/', slash + 1))
            {
                if (set.Contains(path[..slash]))
                {
                    throw RegistryException.BadRequest($"'{path[..slash]}' would be both a file and a folder.");
                }
            }
        }
    }

    /// <summary>Gives the record its id (SHA-1 of its content without the id) and stamps the files it changed.</summary>
    private static CommitRecord Seal(CommitRecord commit, IReadOnlyCollection<string>? touched = null)
    {
        // The id covers the files without their lastCommit stamps, which would refer to the id itself.
        var unstamped = new SortedDictionary<string, FileRecord>(
            commit.Files.ToDictionary(f => f.Key, f => touched is null || touched.Contains(f.Key) ? f.Value with { LastCommit = null } : f.Value, StringComparer.Ordinal),
            StringComparer.Ordinal);
        var id = ContentHashes.Sha1(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(commit with { Id = "", Files = unstamped }));
        var stamped = new SortedDictionary<string, FileRecord>(
            unstamped.ToDictionary(f => f.Key, f => f.Value.LastCommit is null ? f.Value with { LastCommit = id } : f.Value, StringComparer.Ordinal),
            StringComparer.Ordinal);
        return commit with { Id = id, Files = stamped };
    }

    /// <summary>
    /// A branch, tag or <c>refs/...</c> name git would accept, which is also a revision the Hub client can
    /// store under its cache's <c>refs/</c> (<see cref="RepoPaths.IsSafe"/>: what serve hands out, clients accept).
    /// </summary>
    public static bool IsValidRefName(string name) =>
        name.Length is > 0 and <= 200 && RepoPaths.IsSafe(name) && !name.EndsWith('/') && !name.Contains("..", StringComparison.Ordinal)
        && !name.EndsWith(".lock", StringComparison.Ordinal)
        && !name.Any(c => char.IsControl(c) || c is ' ' or '~' or '^' or ':' or '?' or '*' or '[' or '\\')
        && name != "HEAD";

    private const string DefaultGitAttributes =
        "*.bin filter=lfs diff=lfs merge=lfs -text\n" +
        "*.safetensors filter=lfs diff=lfs merge=lfs -text\n" +
        "*.pt filter=lfs diff=lfs merge=lfs -text\n" +
        "*.pth filter=lfs diff=lfs merge=lfs -text\n" +
        "*.ckpt filter=lfs diff=lfs merge=lfs -text\n" +
        "*.onnx filter=lfs diff=lfs merge=lfs -text\n" +
        "*.h5 filter=lfs diff=lfs merge=lfs -text\n" +
        "*.gguf filter=lfs diff=lfs merge=lfs -text\n" +
        "*.zip filter=lfs diff=lfs merge=lfs -text\n" +
        "*.tar.gz filter=lfs diff=lfs merge=lfs -text\n";

    /// <summary>The file name suffixes that <see cref="DefaultGitAttributes"/> sends through LFS.</summary>
    public static IReadOnlyList<string> LfsSuffixes { get; } = DefaultGitAttributes
        .Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(line => line[1..line.IndexOf(' ', StringComparison.Ordinal)])
        .ToList();
}
