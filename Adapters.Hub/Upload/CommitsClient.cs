using System.Net.Http.Headers;
using Adapters.Hub.Download;
using Adapters.Hub.Http;
using Adapters.Hub.Repositories;
using Adapters.Hub.Routing;

namespace Adapters.Hub.Upload;

/// <summary>
/// Makes commits the way Python's <c>HfApi.create_commit</c> does without Xet: preupload to learn which
/// files go through LFS, LFS uploads, then one NDJSON commit. Nothing is committed unless every upload
/// succeeded, and nothing local changes whatever the outcome.
/// </summary>
public sealed class CommitsClient
{
    private const int PreuploadChunkSize = 256;
    private const string DefaultRevision = "main";

    private readonly HubConnection _connection;
    private readonly RepositoriesClient _repositories;
    private readonly LfsUploader _lfs;

    internal CommitsClient(HubConnection connection, RepositoriesClient repositories)
    {
        _connection = connection;
        _repositories = repositories;
        _lfs = new LfsUploader(connection);
    }

    /// <summary>Commits <paramref name="operations"/> to <paramref name="repoId"/> in one commit.</summary>
    /// <exception cref="HubConflictException">The branch moved past <see cref="CommitOptions.ParentCommit"/> (412).</exception>
    /// <exception cref="RepositoryNotFoundException">The repository does not exist or the token cannot write to it.</exception>
    public async Task<CommitInfo> CreateCommitAsync(
        string repoId,
        IReadOnlyList<CommitOperation> operations,
        string summary,
        CommitOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentException.ThrowIfNullOrWhiteSpace(summary);
        options ??= new CommitOptions();
        if (operations.Count == 0) throw new ArgumentException("A commit needs at least one operation.", nameof(operations));
        var duplicate = operations.GroupBy(o => o.PathInRepo, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"'{duplicate.Key}' appears in more than one operation of the commit.", nameof(operations));

        var revision = options.Revision ?? DefaultRevision;
        var additions = operations.OfType<CommitOperationAdd>().ToList();
        var deletions = operations.OfType<CommitOperationDelete>().ToList();

        await Parallel.ForEachAsync(additions, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxConcurrency), CancellationToken = cancellationToken },
            async (add, ct) => await add.ComputeFingerprintAsync(ct).ConfigureAwait(false)).ConfigureAwait(false);

        var (modes, headCommit) = await PreuploadAsync(repoId, options.RepoType, revision, options.CreatePullRequest, additions, cancellationToken).ConfigureAwait(false);

        var kept = new List<(CommitOperationAdd File, bool IsLfs)>();
        var progress = new ProgressTracker(options.Progress, additions.Count, additions.Sum(a => a.Fingerprint.Size));
        foreach (var add in additions)
        {
            var answer = modes[add.PathInRepo];
            var isLfs = answer.UploadMode == "lfs" && add.Fingerprint.Size > 0;
            var localOid = isLfs ? add.Fingerprint.Sha256 : add.Fingerprint.GitSha1;
            if (answer.ShouldIgnore || (answer.Oid is not null && string.Equals(answer.Oid, localOid, StringComparison.OrdinalIgnoreCase)))
            {
                progress.FileCompleted(add.Fingerprint.Size);
                continue;
            }
            kept.Add((add, isLfs));
        }

        var lfsFiles = kept.Where(k => k.IsLfs).Select(k => k.File).ToList();
        if (lfsFiles.Count > 0)
        {
            await _lfs.UploadAsync(repoId, options.RepoType, options.CreatePullRequest ? null : revision, lfsFiles, Math.Max(1, options.MaxConcurrency), progress, cancellationToken).ConfigureAwait(false);
        }

        if (kept.Count == 0 && deletions.Count == 0)
        {
            return new CommitInfo(headCommit ?? "", null, null, null, IsEmpty: true);
        }

        var payload = await CommitPayload.BuildAsync(summary, options.Description, options.ParentCommit, kept, deletions, cancellationToken).ConfigureAwait(false);
        var commitUri = _connection.BuildUri(HubRoutes.Commit.Expand(options.RepoType, repoId, revision) + (options.CreatePullRequest ? "?create_pr=1" : ""));
        // Python does not retry the commit call either: a resent commit could land twice.
        using var response = await _connection.SendAsync(HttpMethod.Post, commitUri, RedirectPolicy.None, request =>
        {
            TransientFailures.SendOnce(request);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Content = new ByteArrayContent(payload);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        }, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var result = await HubConnection.ReadJsonAsync<CommitResponse>(response, cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrEmpty(result.CommitOid))
        {
            throw new HubException($"{commitUri} accepted the commit but answered no commitOid.");
        }
        foreach (var (file, isLfs) in kept)
        {
            if (!isLfs) progress.FileCompleted(file.Fingerprint.Size);
        }
        return new CommitInfo(result.CommitOid, result.CommitUrl, result.PullRequestUrl, PullRequestRevision(result.PullRequestUrl));
    }

    /// <summary>
    /// Uploads a local folder in one commit: files matching <paramref name="allowPatterns"/> (all when null)
    /// and no <paramref name="ignorePatterns"/>, placed under <paramref name="pathInRepo"/>. Git metadata
    /// and Python's <c>.cache/huggingface</c> folder are always left out, as Python does. Remote files
    /// under <paramref name="pathInRepo"/> that match <paramref name="deletePatterns"/> and are not being
    /// uploaded are deleted in the same commit (Python's <c>delete_patterns</c>).
    /// </summary>
    public async Task<CommitInfo> UploadFolderAsync(
        string folder,
        string repoId,
        string summary,
        string? pathInRepo = null,
        IEnumerable<string>? allowPatterns = null,
        IEnumerable<string>? ignorePatterns = null,
        IEnumerable<string>? deletePatterns = null,
        CommitOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var operations = FolderOperations(folder, pathInRepo, allowPatterns, ignorePatterns).ToList();
        var deletes = deletePatterns?.ToList() ?? [];
        if (deletes.Count > 0)
        {
            options ??= new CommitOptions();
            var prefix = string.IsNullOrEmpty(pathInRepo) || pathInRepo is "." or "/" ? "" : RepoPath.Normalize(pathInRepo).TrimEnd('/') + "/";
            var uploading = operations.Select(o => o.PathInRepo).ToHashSet(StringComparer.Ordinal);
            var remote = new List<string>();
            await foreach (var entry in _repositories.ListRepoTreeAsync(repoId, options.Revision, prefix.Length == 0 ? null : prefix, recursive: true, repoType: options.RepoType, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (entry.IsFile) remote.Add(entry.Path);
            }
            var relative = remote.Where(p => p.StartsWith(prefix, StringComparison.Ordinal) && !uploading.Contains(p)).Select(p => p[prefix.Length..]);
            operations.AddRange(PathPatterns.Filter(relative, deletes, null)
                .Where(p => p != ".gitattributes")
                .Select(p => (CommitOperation)CommitOperation.DeleteFile(prefix + p)));
        }
        if (operations.Count == 0)
        {
            throw new ArgumentException($"Nothing to upload from '{folder}': no file matches the include/exclude patterns.", nameof(folder));
        }
        return await CreateCommitAsync(repoId, operations, summary, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The add operations <see cref="UploadFolderAsync"/> would commit, sorted by path.</summary>
    public static IReadOnlyList<CommitOperation> FolderOperations(string folder, string? pathInRepo, IEnumerable<string>? allowPatterns, IEnumerable<string>? ignorePatterns)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var root = Path.GetFullPath(folder);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Cannot upload '{folder}': the folder does not exist.");
        var prefix = string.IsNullOrEmpty(pathInRepo) || pathInRepo is "." or "/" ? "" : RepoPath.Normalize(pathInRepo).TrimEnd('/') + "/";

        var relative = Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(p => !IsAlwaysIgnored(p));
        return PathPatterns.Filter(relative, allowPatterns, ignorePatterns)
            .Order(StringComparer.Ordinal)
            .Select(p => (CommitOperation)CommitOperation.AddFile(prefix + p, Path.Combine(root, p)))
            .ToList();
    }

    private static bool IsAlwaysIgnored(string relativePath)
    {
        var segments = relativePath.Split('/');
        if (segments.Contains(".git")) return true;
        for (var i = 0; i + 1 < segments.Length; i++)
        {
            if (segments[i] == ".cache" && segments[i + 1] == "huggingface") return true;
        }
        return false;
    }

    private async Task<(Dictionary<string, PreuploadAnswer> Modes, string? HeadCommit)> PreuploadAsync(
        string repoId, RepoType repoType, string revision, bool createPullRequest, IReadOnlyList<CommitOperationAdd> additions, CancellationToken cancellationToken)
    {
        var modes = new Dictionary<string, PreuploadAnswer>(StringComparer.Ordinal);
        string? head = null;
        var uri = _connection.BuildUri(HubRoutes.Preupload.Expand(repoType, repoId, revision) + (createPullRequest ? "?create_pr=1" : ""));
        foreach (var chunk in additions.Chunk(PreuploadChunkSize))
        {
            var request = new PreuploadRequest(chunk.Select(a => new PreuploadFile(a.PathInRepo, Convert.ToBase64String(a.Fingerprint.Sample), a.Fingerprint.Size)).ToList());
            var response = await _connection.PostJsonAsync<PreuploadRequest, PreuploadResponse>(uri, request, cancellationToken: cancellationToken).ConfigureAwait(false);
            head ??= response.CommitOid;
            foreach (var answer in response.Files ?? [])
            {
                if (answer.UploadMode is not ("lfs" or "regular"))
                {
                    throw new HubException($"{uri} answered uploadMode '{answer.UploadMode}' for '{answer.Path}'; expected 'lfs' or 'regular'.");
                }
                modes[answer.Path] = answer;
            }
            var missing = chunk.FirstOrDefault(a => !modes.ContainsKey(a.PathInRepo));
            if (missing is not null)
            {
                throw new HubException($"{uri} did not say how to upload '{missing.PathInRepo}'.");
            }
        }
        return (modes, head);
    }

    private static string? PullRequestRevision(string? pullRequestUrl)
    {
        if (pullRequestUrl is null) return null;
        var marker = pullRequestUrl.LastIndexOf("/discussions/", StringComparison.Ordinal);
        if (marker < 0) return null;
        var number = pullRequestUrl[(marker + "/discussions/".Length)..].TrimEnd('/');
        return number.Length > 0 && number.All(char.IsAsciiDigit) ? $"refs/pr/{number}" : null;
    }
}
