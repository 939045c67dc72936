using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Adapters.Hub.Cache;
using Adapters.Hub.Http;
using Adapters.Hub.Repositories;
using Adapters.Hub.Text;
using Adapters.Hub.Xet;
using Microsoft.Extensions.Logging;
using Adapters.Hub.Routing;

namespace Adapters.Hub.Download;

/// <summary>
/// Downloads files and snapshots into the shared cache, following Python's
/// <c>_hf_hub_download_to_cache_dir</c> and <c>snapshot_download</c>, and verifying every byte.
/// </summary>
public sealed partial class FilesClient
{
    private readonly HubConnection _connection;
    private readonly RepositoriesClient _repositories;
    private readonly BlobDownloader _downloader;
    private readonly XetFileDownloader _xetDownloader;

    internal FilesClient(HubConnection connection, RepositoriesClient repositories)
    {
        _connection = connection;
        _repositories = repositories;
        _downloader = new BlobDownloader(connection);
        _xetDownloader = new XetFileDownloader(connection, new Xet.Cas.XetTokenSource(connection), new Xet.Cas.CasClient(connection));
        Cache = new HubCache(connection.Options.CacheDirectory);
    }

    /// <summary>The cache this client writes.</summary>
    public HubCache Cache { get; }

    /// <summary>The <c>/resolve/</c> URL of a file: <c>{endpoint}/{prefix}{repo}/resolve/{revision}/{path}</c>.</summary>
    public Uri ResolveUri(string repoId, string path, string? revision = null, RepoType repoType = RepoType.Model)
    {
        RepoIds.Validate(repoId);
        RepoPaths.Validate(path);
        return _connection.BuildUri(HubRoutes.ResolveFile.Expand(repoType, repoId, revision ?? "main", path));
    }

    /// <summary>
    /// <c>HEAD</c> on the resolve URL with <c>Accept-Encoding: identity</c>, following only relative
    /// redirects (a renamed repository; an absolute one is the CDN and is read, not followed): reads the commit, etag, size and download location.
    /// </summary>
    public async Task<HubFileMetadata> GetFileMetadataAsync(string repoId, string path, string? revision = null, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default)
    {
        var uri = ResolveUri(repoId, path, revision, repoType);
        using var response = await _connection.SendAsync(HttpMethod.Head, uri, RedirectPolicy.RelativeOnly,
            request => request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity")),
            cancellationToken: cancellationToken).ConfigureAwait(false);

        if ((int)response.StatusCode >= 400)
        {
            var error = await HubErrorMap.ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
            if (error is EntryNotFoundException && Header(response, "X-Repo-Commit") is { } missingAt && HubCache.IsCommitHash(missingAt))
            {
                // As Python: the marker, and the ref it was found under, so an offline lookup can answer "known missing".
                var repoFolder = Cache.RepoFolder(repoId, repoType);
                HubCache.WriteNoExist(repoFolder, missingAt, path);
                HubCache.WriteRef(repoFolder, revision ?? "main", missingAt);
            }
            throw error;
        }

        var requestUri = response.RequestMessage?.RequestUri ?? uri;
        var commit = Header(response, "X-Repo-Commit")
            ?? throw new HubException($"{requestUri} answered without X-Repo-Commit: the server does not behave like a Hugging Face Hub (a proxy or firewall in the way?).");
        if (!HubCache.IsCommitHash(commit)) throw new HubException($"{requestUri} answered X-Repo-Commit '{commit}', which is not a 40-hex commit id.");
        var rawEtag = Header(response, "X-Linked-Etag") ?? Header(response, "ETag")
            ?? throw new HubException($"{requestUri} answered without an ETag or X-Linked-Etag; cannot name or verify the blob.");
        var etag = HubFileMetadata.NormalizeEtag(rawEtag);
        if (!HubCache.IsUsableEtag(etag))
        {
            // The etag names the blob file: one that could escape blobs/ or carry terminal escapes is refused as untrustworthy.
            throw new IntegrityException(
                $"{requestUri} answered the etag {SafeText.Quote(etag)} ({etag.Length} characters) for '{path}', which is neither a content hash nor a safe blob name (1-128 letters, digits, '-', '_').",
                "a SHA-1/SHA-256 or a safe blob name", SafeText.Quote(etag));
        }
        var isRedirect = HubConnection.IsRedirect(response.StatusCode);
        long size;
        if (Header(response, "X-Linked-Size") is { } linkedSize)
        {
            if (!long.TryParse(linkedSize, NumberStyles.None, CultureInfo.InvariantCulture, out size))
                throw new HubException($"{requestUri} answered X-Linked-Size '{linkedSize}', which is not a byte count.");
        }
        else if (!isRedirect && response.Content.Headers.ContentLength is { } length)
        {
            size = length;
        }
        else
        {
            throw new HubException($"{requestUri} answered without X-Linked-Size or Content-Length; cannot verify the download.");
        }
        var location = isRedirect && response.Headers.Location is { } target
            ? (target.IsAbsoluteUri ? target : new Uri(requestUri, target))
            : requestUri;
        return new HubFileMetadata(commit, etag, size, location)
        {
            XetFileHash = XetHash.TryParse(Header(response, "X-Xet-Hash"), out var xetHash) ? xetHash : null,
            XetAuthUrl = LinkHeader.Find(response, "xet-auth")
                ?? (Header(response, "X-Xet-Refresh-Route") is { } route && Uri.TryCreate(requestUri, route, out var refresh) ? refresh : null),
        };
    }

    /// <summary>
    /// The cached copy of a file at a revision, without any network: the snapshot path, or null when it
    /// is not cached (Python's <c>try_to_load_from_cache</c>). <see cref="LookUpCachedFile"/> also tells
    /// "known to be missing" (a <c>.no_exist</c> marker) apart from "never asked".
    /// </summary>
    public string? TryGetCachedFile(string repoId, string path, string? revision = null, RepoType repoType = RepoType.Model)
    {
        var lookup = LookUpCachedFile(repoId, path, revision, repoType);
        return lookup.Status == CachedFileStatus.Cached ? lookup.Path : null;
    }

    /// <summary>
    /// What the cache knows about a file at a revision, without any network: cached (with its snapshot
    /// path), known missing (the Hub said so; Python's <c>_CACHED_NO_EXIST</c>), or not cached.
    /// </summary>
    public CachedFileLookup LookUpCachedFile(string repoId, string path, string? revision = null, RepoType repoType = RepoType.Model)
    {
        RepoPaths.Validate(path);
        var repoFolder = Cache.RepoFolder(repoId, repoType);
        var commit = HubCache.ResolveCommit(repoFolder, revision ?? "main");
        if (commit is null) return new CachedFileLookup(CachedFileStatus.NotCached, null, null);
        var pointer = HubCache.PointerPath(repoFolder, commit, path);
        if (File.Exists(pointer)) return new CachedFileLookup(CachedFileStatus.Cached, pointer, commit);
        var marker = HubCache.NoExistPath(repoFolder, commit, path);
        return File.Exists(marker)
            ? new CachedFileLookup(CachedFileStatus.KnownMissing, marker, commit)
            : new CachedFileLookup(CachedFileStatus.NotCached, null, commit);
    }

    /// <summary>
    /// Downloads one file into the cache and returns its path under <c>snapshots/&lt;commit&gt;/</c>.
    /// The bytes are checked against the etag (SHA-256 for LFS, git SHA-1 otherwise) before the blob
    /// appears; an interrupted download resumes with <c>Range</c>, also across runs and processes.
    /// </summary>
    /// <exception cref="RepositoryNotFoundException">The repository is missing or not visible to the token.</exception>
    /// <exception cref="RevisionNotFoundException">The revision does not exist.</exception>
    /// <exception cref="EntryNotFoundException">The file does not exist at the revision.</exception>
    /// <exception cref="LocalEntryNotFoundException">Offline or unreachable, and not cached.</exception>
    /// <exception cref="IntegrityException">The received bytes do not match the etag or size.</exception>
    public async Task<string> DownloadFileAsync(
        string repoId,
        string path,
        string? revision = null,
        RepoType repoType = RepoType.Model,
        IProgress<TransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var tracker = new ProgressTracker(progress, 1, null);
        var result = await DownloadFileCoreAsync(repoId, path, revision ?? "main", repoType, tracker, cancellationToken).ConfigureAwait(false);
        return result;
    }

    private async Task<string> DownloadFileCoreAsync(string repoId, string path, string revision, RepoType repoType, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        RepoPaths.Validate(path);
        RepoPaths.ValidateRevision(revision);
        var repoFolder = Cache.RepoFolder(repoId, repoType);

        if (HubCache.IsCommitHash(revision) && File.Exists(HubCache.PointerPath(repoFolder, revision, path)))
        {
            LogCacheHit(_connection.Logger, path, repoId, revision);
            tracker.FileCompleted(ContentLength(HubCache.PointerPath(repoFolder, revision, path)));
            return HubCache.PointerPath(repoFolder, revision, path);
        }

        HubFileMetadata metadata;
        try
        {
            metadata = _connection.Options.Offline
                ? throw new OfflineModeException("Offline mode is on (HF_HUB_OFFLINE).")
                : await GetFileMetadataAsync(repoId, path, revision, repoType, cancellationToken).ConfigureAwait(false);
        }
        catch (HubException ex) when (CanFallBackToCache(ex))
        {
            var lookup = LookUpCachedFile(repoId, path, revision, repoType);
            if (lookup.Status == CachedFileStatus.Cached)
            {
                LogCacheHit(_connection.Logger, path, repoId, lookup.CommitHash!);
                tracker.FileCompleted(ContentLength(lookup.Path!));
                return lookup.Path!;
            }
            if (lookup.Status == CachedFileStatus.KnownMissing)
            {
                throw new KnownMissingEntryException(
                    $"'{path}' does not exist in {repoType.Singular()} {repoId} at commit {lookup.CommitHash} (revision '{revision}'), as the Hub said earlier ({lookup.Path}); the Hub could not be asked again: {ex.Message}",
                    lookup.CommitHash!, lookup.Path!);
            }
            throw new LocalEntryNotFoundException(
                $"'{path}' of {repoType.Singular()} {repoId} at revision '{revision}' is not in the cache ({Cache.Root}) and the Hub could not be asked: {ex.Message}", ex);
        }

        tracker.SetTotalBytesIfUnknown(metadata.Size);
        var pointer = HubCache.PointerPath(repoFolder, metadata.CommitHash, path);
        if (File.Exists(pointer))
        {
            LogCacheHit(_connection.Logger, path, repoId, metadata.CommitHash);
            HubCache.WriteRef(repoFolder, revision, metadata.CommitHash);
            tracker.FileCompleted(metadata.Size);
            return pointer;
        }

        Cache.EnsureCacheDirTag();
        HubCache.WriteRef(repoFolder, revision, metadata.CommitHash);
        var contentHash = await ContentHashAsync(repoId, path, repoType, repoFolder, metadata, cancellationToken).ConfigureAwait(false);
        var blob = HubCache.BlobPath(repoFolder, metadata.Etag);
        var description = $"'{path}' of {repoId}";
        using (await CacheLock.AcquireAsync(Cache.LockPath(repoFolder, metadata.Etag), cancellationToken).ConfigureAwait(false))
        {
            if (File.Exists(blob) && await IsBlobOfAsync(blob, metadata, contentHash, cancellationToken).ConfigureAwait(false))
            {
                LogCacheHit(_connection.Logger, path, repoId, metadata.CommitHash);
                tracker.FileCompleted(metadata.Size);
            }
            else if (File.Exists(blob))
            {
                // Another file already owns blobs/<etag> under this non-hash etag, with other content (or
                // content that cannot be compared): this file gets its own verified copy in the snapshot.
                await DownloadStandaloneAsync(metadata, blob, pointer, description, contentHash, tracker, cancellationToken).ConfigureAwait(false);
                return pointer;
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
                // Resume from a partial left by an earlier run, ours or Python's (either naming scheme).
                PartialDownloads.AdoptOrphans(blob);
                var incomplete = PartialDownloads.ResumablePath(blob);
                await DownloadContentAsync(metadata, incomplete, description, tracker, contentHash, cancellationToken).ConfigureAwait(false);
                File.Move(incomplete, blob, overwrite: false);
                tracker.FileCompleted();
            }
            HubCache.LinkPointer(blob, pointer, _connection.Options.UseSymlinks);
        }
        return pointer;
    }

    /// <summary>
    /// Downloads every file of a revision (or those matching the patterns) into <c>snapshots/&lt;commit&gt;</c>,
    /// <paramref name="maxConcurrency"/> files at a time. Offline or unreachable, the cached snapshot of the
    /// revision is returned as it is.
    /// </summary>
    /// <param name="repoId">The repository.</param>
    /// <param name="revision">Branch, tag or commit (default <c>main</c>).</param>
    /// <param name="allowPatterns">Globs of paths to include (all when null or empty).</param>
    /// <param name="ignorePatterns">Globs of paths to leave out.</param>
    /// <param name="maxConcurrency">Files downloaded at once (default <see cref="HubClientOptions.MaxConcurrency"/>).</param>
    /// <param name="repoType">The repository type.</param>
    /// <param name="progress">Receives bytes and files done.</param>
    /// <param name="cancellationToken">Cancels the downloads (partial files are kept for resuming).</param>
    public async Task<Snapshot> SnapshotDownloadAsync(
        string repoId,
        string? revision = null,
        IEnumerable<string>? allowPatterns = null,
        IEnumerable<string>? ignorePatterns = null,
        int? maxConcurrency = null,
        RepoType repoType = RepoType.Model,
        IProgress<TransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        revision ??= "main";
        RepoPaths.ValidateRevision(revision);
        var repoFolder = Cache.RepoFolder(repoId, repoType);
        var allow = allowPatterns?.ToList();
        var ignore = ignorePatterns?.ToList();

        string commit;
        List<RepoTreeEntry> files;
        try
        {
            if (_connection.Options.Offline) throw new OfflineModeException("Offline mode is on (HF_HUB_OFFLINE).");
            commit = HubCache.IsCommitHash(revision)
                ? revision
                : (await _repositories.RepoInfoAsync(repoId, repoType, revision, cancellationToken).ConfigureAwait(false)).Sha
                    ?? throw new HubException($"The Hub's information on {repoId} at '{revision}' has no 'sha'; cannot pin the snapshot to a commit.");
            files = [];
            if (TreeCache.Read(repoFolder, commit) is { } cachedTree)
            {
                // Python 1.22+ (and this client) cache the commit's listing: a commit never changes, so no request.
                files.AddRange(cachedTree.Select(kv => new RepoTreeEntry
                {
                    Type = "file",
                    Path = kv.Key,
                    Oid = kv.Value.BlobId,
                    Size = kv.Value.Size,
                    Lfs = kv.Value.LfsSha256 is { } sha ? new TreeLfs { Oid = sha, Size = kv.Value.LfsSize ?? kv.Value.Size } : null,
                    XetHash = kv.Value.XetHash,
                }));
            }
            else
            {
                await foreach (var entry in _repositories.ListRepoTreeAsync(repoId, commit, recursive: true, repoType: repoType, cancellationToken: cancellationToken).ConfigureAwait(false))
                {
                    if (!entry.IsFile) continue;
                    if (!RepoPaths.IsSafe(entry.Path))
                    {
                        throw new HubException($"The tree listing of {repoId} at {commit} contains the path '{entry.Path}', which would escape the snapshot folder; refusing to download.");
                    }
                    files.Add(entry);
                }
                try
                {
                    TreeCache.Write(repoFolder, commit, files);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // The listing only saves requests later (and answers offline): a cache that cannot take it still downloads.
                    LogTreeNotCached(_connection.Logger, repoId, commit, ex.Message);
                }
            }
        }
        catch (HubException ex) when (CanFallBackToCache(ex))
        {
            return CachedSnapshot(repoId, repoType, revision, repoFolder, allow, ignore, ex);
        }

        var wanted = PathPatterns.Filter(files.Select(f => f.Path), allow, ignore).ToHashSet(StringComparer.Ordinal);
        var selected = files.Where(f => wanted.Contains(f.Path)).ToList();
        Cache.EnsureCacheDirTag();
        HubCache.WriteRef(repoFolder, revision, commit);
        Directory.CreateDirectory(HubCache.SnapshotFolder(repoFolder, commit));

        var tracker = new ProgressTracker(progress, selected.Count, selected.Sum(f => f.Size));
        await Parallel.ForEachAsync(selected, new ParallelOptions
        {
            MaxDegreeOfParallelism = maxConcurrency ?? _connection.Options.MaxConcurrency,
            CancellationToken = cancellationToken,
        }, async (file, ct) => await DownloadFileCoreAsync(repoId, file.Path, commit, repoType, tracker, ct).ConfigureAwait(false)).ConfigureAwait(false);

        return new Snapshot(HubCache.SnapshotFolder(repoFolder, commit), commit, selected.Select(f => f.Path).ToList());
    }

    /// <summary>
    /// Downloads several files of one revision: the revision is resolved to a commit once, and every file
    /// is taken from that commit, so a commit landing on the branch mid-way cannot mix two versions (Python's
    /// CLI uses one snapshot for the same reason). Offline or unreachable, the revision resolves through
    /// the cache's refs and the files come from that cached commit.
    /// </summary>
    /// <exception cref="EntryNotFoundException">A file does not exist at the commit.</exception>
    /// <exception cref="LocalEntryNotFoundException">Offline or unreachable, and a file is not cached.</exception>
    public async Task<Snapshot> DownloadFilesAsync(
        string repoId,
        IReadOnlyList<string> paths,
        string? revision = null,
        RepoType repoType = RepoType.Model,
        IProgress<TransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0) throw new ArgumentException("Name at least one file to download.", nameof(paths));
        foreach (var path in paths) RepoPaths.Validate(path);
        revision ??= "main";
        RepoPaths.ValidateRevision(revision);
        var repoFolder = Cache.RepoFolder(repoId, repoType);
        string commit;
        try
        {
            if (_connection.Options.Offline) throw new OfflineModeException("Offline mode is on (HF_HUB_OFFLINE).");
            commit = HubCache.IsCommitHash(revision)
                ? revision
                : (await _repositories.RepoInfoAsync(repoId, repoType, revision, cancellationToken).ConfigureAwait(false)).Sha
                    ?? throw new HubException($"The Hub's information on {repoId} at '{revision}' has no 'sha'; cannot pin the files to a commit.");
            HubCache.WriteRef(repoFolder, revision, commit);
        }
        catch (HubException ex) when (CanFallBackToCache(ex))
        {
            commit = HubCache.ResolveCommit(repoFolder, revision) ?? throw new LocalEntryNotFoundException(
                $"Revision '{revision}' of {repoType.Singular()} {repoId} is not in the cache ({Cache.Root}) and the Hub could not be asked: {ex.Message}", ex);
        }

        var tracker = new ProgressTracker(progress, paths.Count, null);
        await Parallel.ForEachAsync(paths.Distinct(StringComparer.Ordinal), new ParallelOptions
        {
            MaxDegreeOfParallelism = _connection.Options.MaxConcurrency,
            CancellationToken = cancellationToken,
        }, async (path, ct) => await DownloadFileCoreAsync(repoId, path, commit, repoType, tracker, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return new Snapshot(HubCache.SnapshotFolder(repoFolder, commit), commit, paths.ToList());
    }

    private static Snapshot CachedSnapshot(string repoId, RepoType repoType, string revision, string repoFolder, List<string>? allow, List<string>? ignore, HubException cause)
    {
        var commit = HubCache.ResolveCommit(repoFolder, revision);
        var folder = commit is null ? null : HubCache.SnapshotFolder(repoFolder, commit);
        if (folder is null || !Directory.Exists(folder))
        {
            throw new LocalEntryNotFoundException(
                $"No snapshot of {repoType.Singular()} {repoId} at revision '{revision}' is in the cache ({Path.GetDirectoryName(repoFolder)}) and the Hub could not be asked: {cause.Message}", cause);
        }
        if (TreeCache.Read(repoFolder, commit!) is { } tree)
        {
            // The commit's cached listing says what a complete snapshot holds (Python's IncompleteSnapshotError).
            var listed = PathPatterns.Filter(tree.Keys, allow, ignore).ToList();
            var missing = listed.Where(p => !File.Exists(HubCache.PointerPath(repoFolder, commit!, p))).ToList();
            if (missing.Count > 0)
            {
                throw new IncompleteSnapshotException(
                    $"The cached snapshot of {repoType.Singular()} {repoId} at {commit} lacks {missing.Count} of the {listed.Count} requested file(s) its listing names (first: '{missing[0]}'), and the Hub could not be asked: {cause.Message}",
                    missing, cause);
            }
            return new Snapshot(folder, commit!, listed.Order(StringComparer.Ordinal).ToList());
        }
        var present = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'));
        var files = PathPatterns.Filter(present, allow, ignore).Order(StringComparer.Ordinal).ToList();
        return new Snapshot(folder, commit!, files);
    }

    /// <summary>
    /// The hash the content is verified against: the etag when it is a SHA-256 or git SHA-1; otherwise the
    /// commit's cached tree listing, else the Hub's <c>paths-info</c> (LFS SHA-256, else the git blob id).
    /// Null when neither offers one: then only the size is checked. A listed size that disagrees with the
    /// announced one is an <see cref="IntegrityException"/>.
    /// </summary>
    private async Task<string?> ContentHashAsync(string repoId, string path, RepoType repoType, string repoFolder, HubFileMetadata metadata, CancellationToken cancellationToken)
    {
        if (HubCache.IsSha256(metadata.Etag) || HubCache.IsSha1(metadata.Etag)) return metadata.Etag;
        long? listedSize;
        string? hash;
        if (TreeCache.Read(repoFolder, metadata.CommitHash) is { } tree && tree.TryGetValue(path, out var cached))
        {
            (listedSize, hash) = (cached.LfsSize ?? cached.Size, cached.ContentHash);
        }
        else
        {
            RepoTreeEntry? entry;
            try
            {
                entry = (await _repositories.GetPathsInfoAsync(repoId, [path], metadata.CommitHash, repoType, cancellationToken).ConfigureAwait(false))
                    .FirstOrDefault(e => e.IsFile && e.Path == path);
            }
            catch (HubHttpException ex) when (ex is not RepositoryNotFoundException and not RevisionNotFoundException)
            {
                LogNoPathsInfo(_connection.Logger, path, repoId, ex.Message);
                return null;
            }
            if (entry is null) return null;
            listedSize = entry.Lfs?.Size ?? entry.Size;
            hash = entry.Lfs is { } lfs && HubCache.IsSha256(lfs.Oid) ? lfs.Oid : HubCache.IsSha1(entry.Oid) ? entry.Oid : null;
        }
        if (listedSize is { } size && size != metadata.Size)
        {
            throw new IntegrityException(
                $"Size mismatch for '{path}' of {repoId} at {metadata.CommitHash}: the download announces {metadata.Size} bytes, the repository listing {size}.",
                size.ToString(System.Globalization.CultureInfo.InvariantCulture), metadata.Size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return hash;
    }

    /// <summary>
    /// Whether an existing blob is this file's content. Blobs named by a content hash are (they were verified
    /// before they appeared); under a non-hash etag only a matching size and content hash prove it.
    /// </summary>
    private static async Task<bool> IsBlobOfAsync(string blob, HubFileMetadata metadata, string? contentHash, CancellationToken cancellationToken)
    {
        if (HubCache.IsSha256(metadata.Etag) || HubCache.IsSha1(metadata.Etag)) return true;
        if (contentHash is null || new FileInfo(blob).Length != metadata.Size) return false;
        return await ContentHasher.HashFileAsync(blob, contentHash, cancellationToken).ConfigureAwait(false) == contentHash;
    }

    /// <summary>Downloads and verifies a file into its snapshot entry directly (a copy, not a link into <c>blobs/</c>).</summary>
    private async Task DownloadStandaloneAsync(HubFileMetadata metadata, string blob, string pointer, string description, string? contentHash, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        // Named like a Python 1.18+ partial, so that one a killed process leaves behind is pruned like any other.
        var temp = $"{blob}.{Guid.NewGuid().ToString("N")[..8]}{PartialDownloads.Suffix}";
        try
        {
            await DownloadContentAsync(metadata, temp, description, tracker, contentHash, cancellationToken).ConfigureAwait(false);
            Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
            File.Move(temp, pointer, overwrite: true);
            tracker.FileCompleted();
            LogStandalone(_connection.Logger, description, metadata.Etag);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Downloads the file's bytes into <paramref name="path"/>: through Xet reconstruction when the Hub offers it and
    /// <see cref="HubClientOptions.UseXet"/> allows it, else (or when the Xet service cannot be reached or refuses)
    /// as plain HTTP, which resumes from whatever complete prefix the Xet attempt left.
    /// </summary>
    private async Task DownloadContentAsync(HubFileMetadata metadata, string path, string description, ProgressTracker tracker, string? contentHash, CancellationToken cancellationToken)
    {
        if (metadata.IsXet && _connection.Options.UseXet)
        {
            long xetBytes = 0;
            try
            {
                await _xetDownloader.DownloadAsync(metadata, path, description, bytes =>
                {
                    xetBytes += bytes;
                    tracker.AddBytes(bytes);
                }, cancellationToken, contentHash).ConfigureAwait(false);
                return;
            }
            catch (HubException ex) when (ex is not IntegrityException && ex is not OfflineModeException && !cancellationToken.IsCancellationRequested)
            {
                LogXetFallback(_connection.Logger, description, ex.Message);
                tracker.AddBytes(-xetBytes);
            }
        }
        await _downloader.DownloadAsync(metadata, path, description, tracker.AddBytes, cancellationToken, contentHash).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "Xet download of {Description} failed ({Reason}); downloading it over plain HTTP")]
    private static partial void LogXetFallback(ILogger logger, string description, string reason);

    /// <summary>
    /// The cache may answer when the Hub was not asked (offline) or could not answer (network failure,
    /// 408/429/5xx after retries). Missing repositories, revisions and files, and auth errors, are final.
    /// </summary>
    private static bool CanFallBackToCache(HubException ex) => ex is OfflineModeException || TransientFailures.IsTransient(ex);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "No paths-info for '{Path}' of {RepoId} ({Reason}); its non-hash etag is checked by size only")]
    private static partial void LogNoPathsInfo(ILogger logger, string path, string repoId, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Could not cache the file listing of {RepoId} at {Commit}: {Reason}")]
    private static partial void LogTreeNotCached(ILogger logger, string repoId, string commit, string reason);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "{Description} shares the non-hash etag {Etag} with other content; stored as its own copy in the snapshot")]
    private static partial void LogStandalone(ILogger logger, string description, string etag);

    /// <summary>The size of a snapshot entry's content (a symlink's own length is that of its target path).</summary>
    private static long ContentLength(string pointer) => new FileInfo(CacheScanner.ResolveBlob(pointer)).Length;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() is { Length: > 0 } v ? v : null : null;

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Cache hit: '{Path}' of {RepoId} at {Commit}")]
    private static partial void LogCacheHit(ILogger logger, string path, string repoId, string commit);
}
