using Adapters.Hub.IO;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Adapters.Hub.Cache;

namespace Adapters.Registry.Storage;

/// <summary>
/// The registry on disk under one root:
/// <code>
/// repos/&lt;type&gt;/&lt;ns--name&gt;/repo.json           metadata
/// repos/&lt;type&gt;/&lt;ns--name&gt;/commits/&lt;id&gt;.json  immutable snapshots (full manifests)
/// repos/&lt;type&gt;/&lt;ns--name&gt;/refs/&lt;ref&gt;          40-hex commit id, replaced atomically; the ref name is
///                                            escaped: a branch, refs%2Ftags%2F&lt;tag&gt; or refs%2Fpr%2F&lt;num&gt;
/// repos/&lt;type&gt;/&lt;ns--name&gt;/discussions/&lt;num&gt;.json discussions and pull requests
/// objects/lfs|git/..                         content-addressed blobs (see <see cref="BlobStore"/>)
/// tmp/                                       uploads in progress, emptied at start
/// </code>
/// A commit becomes visible only when its ref is renamed into place, after the commit file and every
/// blob it names are on disk; a crash at any point leaves the previous head intact.
/// </summary>
internal sealed partial class RegistryStore : IDisposable
{
    /// <summary>The branch a new repository gets and that <c>HEAD</c> names.</summary>
    public const string DefaultBranch = "main";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = false };
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly string _reposRoot;
    private readonly FileStream _ownership;

    public RegistryStore(string root)
    {
        Root = Path.GetFullPath(root);
        _reposRoot = Path.Combine(Root, "repos");
        Directory.CreateDirectory(_reposRoot);
        // One server per root: the per-repository locks and the tmp/ cleanup below assume no other writer.
        try
        {
            _ownership = new FileStream(Path.Combine(Root, "registry.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"The registry in {Root} is already served by another process (registry.lock is held).", ex);
        }
        var temp = Path.Combine(Root, "tmp");
        // Whatever is in tmp/ belongs to uploads or deletions that a previous process never finished.
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Blobs = new BlobStore(Path.Combine(Root, "objects"), temp);
    }

    public string Root { get; }

    public BlobStore Blobs { get; }

    /// <summary>Releases the root for another server.</summary>
    public void Dispose() => _ownership.Dispose();

    private string RepoFolder(RepoKey key) => Path.Combine(_reposRoot, key.Type.ApiSegment(), key.FolderName);

    private static string RefPath(string repoFolder, string refName) => Path.Combine(repoFolder, "refs", Uri.EscapeDataString(refName));

    /// <summary>The stored ref name of a tag.</summary>
    public static string TagRef(string tag) => "refs/tags/" + tag;

    private static string CommitPath(string repoFolder, string id) => Path.Combine(repoFolder, "commits", id + ".json");

    private SemaphoreSlim LockOf(RepoKey key) => _locks.GetOrAdd($"{key.Type}/{key.Id}", _ => new SemaphoreSlim(1, 1));

    public RepoMetadata? FindRepo(RepoKey key)
    {
        var path = Path.Combine(RepoFolder(key), "repo.json");
        return File.Exists(path) ? JsonSerializer.Deserialize<RepoMetadata>(File.ReadAllBytes(path), s_json) : null;
    }

    public RepoMetadata GetRepo(RepoKey key) => FindRepo(key) ?? throw RegistryException.RepoNotFound(key.ToString());

    public IEnumerable<(RepoKey Key, RepoMetadata Metadata)> ListRepos(RepoType type)
    {
        var folder = Path.Combine(_reposRoot, type.ApiSegment());
        if (!Directory.Exists(folder)) yield break;
        foreach (var repo in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            var metadataPath = Path.Combine(repo, "repo.json");
            if (!File.Exists(metadataPath)) continue;
            var metadata = JsonSerializer.Deserialize<RepoMetadata>(File.ReadAllBytes(metadataPath), s_json)!;
            yield return (new RepoKey(type, metadata.Id), metadata);
        }
    }

    /// <summary>
    /// Creates a repository with an initial commit holding a <c>.gitattributes</c> (as the Hub does) plus
    /// <paramref name="initialFiles"/>. The folder is built aside and renamed into place, so a repository
    /// either exists completely or not at all.
    /// </summary>
    public async Task<RepoMetadata> CreateRepoAsync(RepoKey key, bool isPrivate, IReadOnlyList<(string Path, byte[] Content)> initialFiles, CancellationToken cancellationToken)
    {
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var folder = RepoFolder(key);
            if (Directory.Exists(folder)) throw new RegistryException(409, null, $"You already created this {key.Type.Singular()} repo: {key.Id}");
            var staging = Blobs.NewTempPath("repo");
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
            AtomicFile.WriteAllBytes(Path.Combine(staging, "repo.json"), JsonSerializer.SerializeToUtf8Bytes(metadata, s_json), WriteDurability.FileAndFolderOnDisk);
            AtomicFile.WriteAllBytes(CommitPath(staging, commit.Id), JsonSerializer.SerializeToUtf8Bytes(commit, s_json), WriteDurability.FileAndFolderOnDisk);
            AtomicFile.WriteAllBytes(RefPath(staging, DefaultBranch), Encoding.ASCII.GetBytes(commit.Id), WriteDurability.FileAndFolderOnDisk);
            Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
            Directory.Move(staging, folder);
            return metadata;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Deletes a repository: it is first renamed out of <c>repos/</c> (atomic), then removed. Blobs stay, as they may be shared.</summary>
    public async Task DeleteRepoAsync(RepoKey key, CancellationToken cancellationToken)
    {
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var folder = RepoFolder(key);
            if (!File.Exists(Path.Combine(folder, "repo.json"))) throw RegistryException.RepoNotFound(key.ToString());
            var trash = Blobs.NewTempPath("deleted");
            Directory.Move(folder, trash);
            Directory.Delete(trash, recursive: true);
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
        var refs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var folder = Path.Combine(RepoFolder(key), "refs");
        if (!Directory.Exists(folder)) return refs;
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var name = Path.GetFileName(file);
            if (name.StartsWith('.')) continue;
            refs[Uri.UnescapeDataString(name)] = File.ReadAllText(file, Encoding.ASCII).Trim();
        }
        return refs;
    }

    public CommitRecord ReadCommit(RepoKey key, string id)
    {
        var path = CommitPath(RepoFolder(key), id);
        return JsonSerializer.Deserialize<CommitRecord>(File.ReadAllBytes(path), s_json)
            ?? throw new InvalidDataException($"{path} is not a commit record.");
    }

    /// <summary>
    /// Resolves a branch (also <c>HEAD</c>, <c>refs/heads/x</c>), a tag (<c>v1</c> or <c>refs/tags/v1</c>; a branch
    /// of the same name wins, as in git), a pull request (<c>refs/pr/N</c>) or a full commit id.
    /// </summary>
    public ResolvedRevision Resolve(RepoKey key, string revision)
    {
        var repo = GetRepo(key);
        var folder = RepoFolder(key);
        foreach (var name in RefCandidates(revision))
        {
            if (IsValidRefName(name) && File.Exists(RefPath(folder, name)))
            {
                var id = File.ReadAllText(RefPath(folder, name), Encoding.ASCII).Trim();
                return new ResolvedRevision(repo, id, ReadCommit(key, id));
            }
        }
        if (ContentHashes.IsSha1(revision) && File.Exists(CommitPath(folder, revision)))
        {
            return new ResolvedRevision(repo, revision, ReadCommit(key, revision));
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
    /// lists both sides). Bounded by the repository's own commit files, so a cycle cannot loop.
    /// </summary>
    public IReadOnlyList<CommitRecord> History(RepoKey key, string commitId)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { commitId };
        var pending = new Queue<string>([commitId]);
        var commits = new List<CommitRecord>();
        while (pending.TryDequeue(out var id))
        {
            var commit = ReadCommit(key, id);
            commits.Add(commit);
            foreach (var parent in commit.Parents)
            {
                if (seen.Add(parent) && File.Exists(CommitPath(RepoFolder(key), parent))) pending.Enqueue(parent);
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
            var path = RefPath(RepoFolder(key), branch);
            if (File.Exists(path)) throw new RegistryException(409, null, $"Reference refs/heads/{branch} already exists");
            AtomicFile.WriteAllBytes(path, Encoding.ASCII.GetBytes(start.CommitId), WriteDurability.FileAndFolderOnDisk);
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
            var path = RefPath(RepoFolder(key), branch);
            // Tags and pull requests are refs/ names: they are not branches and have their own routes.
            if (!IsValidRefName(branch) || branch.StartsWith("refs/", StringComparison.Ordinal) || !File.Exists(path))
            {
                throw RegistryException.RevisionNotFound(key.ToString(), branch);
            }
            File.Delete(path);
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
            var path = RefPath(RepoFolder(key), TagRef(tag));
            if (File.Exists(path)) throw new RegistryException(409, null, $"Tag reference {TagRef(tag)} already exists");
            AtomicFile.WriteAllBytes(path, Encoding.ASCII.GetBytes(target.CommitId), WriteDurability.FileAndFolderOnDisk);
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
            var path = RefPath(RepoFolder(key), name);
            if (!IsValidRefName(name) || !File.Exists(path)) throw RegistryException.RevisionNotFound(key.ToString(), tag);
            File.Delete(path);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Replaces the history of <paramref name="branch"/> by one root commit holding its current files
    /// (<c>super_squash_history</c>). Tags and pull requests are not branches (400); an unknown branch is a
    /// RevisionNotFound. Older commits stay on disk for the refs that still name them.
    /// </summary>
    public async Task<string> SuperSquashAsync(RepoKey key, string branch, string message, string author, CancellationToken cancellationToken)
    {
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            GetRepo(key);
            if (branch.StartsWith("refs/heads/", StringComparison.Ordinal)) branch = branch["refs/heads/".Length..];
            var folder = RepoFolder(key);
            if (branch.StartsWith("refs/", StringComparison.Ordinal) || ContentHashes.IsSha1(branch))
            {
                throw RegistryException.BadRequest($"'{branch}' is not a branch; only a branch can be squashed.");
            }
            if (!IsValidRefName(branch) || !File.Exists(RefPath(folder, branch))) throw RegistryException.RevisionNotFound(key.ToString(), branch);
            var head = Resolve(key, branch);
            var squashed = Seal(new CommitRecord
            {
                Parents = [],
                Title = message,
                Date = DateTimeOffset.UtcNow,
                Author = author,
                Files = new SortedDictionary<string, FileRecord>(head.Commit.Files.ToDictionary(f => f.Key, f => f.Value with { LastCommit = null }, StringComparer.Ordinal), StringComparer.Ordinal),
            }, head.Commit.Files.Keys.ToList());
            AtomicFile.WriteAllBytes(CommitPath(folder, squashed.Id), JsonSerializer.SerializeToUtf8Bytes(squashed, s_json), WriteDurability.FileAndFolderOnDisk);
            AtomicFile.WriteAllBytes(RefPath(folder, branch), Encoding.ASCII.GetBytes(squashed.Id), WriteDurability.FileAndFolderOnDisk);
            return squashed.Id;
        }
        finally
        {
            gate.Release();
        }
    }

    private static bool IsShortCommitId(string revision) => revision.Length is >= 5 and < 40 && revision.All(char.IsAsciiHexDigitLower);

    /// <summary>
    /// Applies <paramref name="request"/> on top of <paramref name="branch"/> under the repository's lock.
    /// A <see cref="CommitRequest.ParentCommit"/> that is not the branch head is refused with 412, as the Hub does.
    /// With <paramref name="createPullRequest"/> the commit goes to a new <c>refs/pr/N</c> instead.
    /// </summary>
    public async Task<CommitOutcome> CommitAsync(RepoKey key, string branch, CommitRequest request, bool createPullRequest, CancellationToken cancellationToken)
    {
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var folder = RepoFolder(key);
            GetRepo(key);
            if (branch == "HEAD") branch = DefaultBranch;
            if (branch.StartsWith("refs/heads/", StringComparison.Ordinal)) branch = branch["refs/heads/".Length..];
            // Commits go to branches and pull requests; a tag never moves.
            var committable = !branch.StartsWith("refs/", StringComparison.Ordinal) || branch.StartsWith("refs/pr/", StringComparison.Ordinal);
            if (!committable || !IsValidRefName(branch) || !File.Exists(RefPath(folder, branch)))
            {
                throw RegistryException.RevisionNotFound(key.ToString(), branch);
            }
            if (createPullRequest && branch.StartsWith("refs/", StringComparison.Ordinal))
            {
                throw RegistryException.RevisionNotFound(key.ToString(), branch);
            }
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
                    throw new RegistryException(412, null, "The branch was updated since you opened this page. Please refresh and try again.");
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
            AtomicFile.WriteAllBytes(CommitPath(folder, commit.Id), JsonSerializer.SerializeToUtf8Bytes(commit, s_json), WriteDurability.FileAndFolderOnDisk);

            if (createPullRequest)
            {
                // The pull request exists (discussion and ref) once its record is written; the ref comes last.
                var pullRequest = OpenPullRequest(key, request.Summary, request.Description, request.Author, branch, baseCommit.CommitId, DiscussionStatus.Open, commit);
                AtomicFile.WriteAllBytes(RefPath(folder, DiscussionRecord.PullRequestRef(pullRequest)), Encoding.ASCII.GetBytes(commit.Id), WriteDurability.FileAndFolderOnDisk);
                return new CommitOutcome(commit.Id, pullRequest);
            }
            AtomicFile.WriteAllBytes(RefPath(folder, branch), Encoding.ASCII.GetBytes(commit.Id), WriteDurability.FileAndFolderOnDisk);
            if (branch.StartsWith("refs/pr/", StringComparison.Ordinal)) RecordPullRequestCommit(key, branch, commit, request.Author);
            return new CommitOutcome(commit.Id, null);
        }
        finally
        {
            gate.Release();
        }
    }

    private ResolvedRevision ResolveCommitPrefix(RepoKey key, string prefix)
    {
        var folder = Path.Combine(RepoFolder(key), "commits");
        var matches = Directory.EnumerateFiles(folder, "*.json")
            .Select(f => Path.GetFileNameWithoutExtension(f))
            .Where(id => id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (prefix.Length < 5 || matches.Count != 1) throw RegistryException.RevisionNotFound(key.ToString(), prefix);
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
        var id = ContentHashes.Sha1(JsonSerializer.SerializeToUtf8Bytes(commit with { Id = "", Files = unstamped }, s_json));
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
