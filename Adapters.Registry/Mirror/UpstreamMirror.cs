using System.Collections.Concurrent;
using System.Net;
using Adapters.Hub.Http;
using Adapters.Hub.Repositories;
using Adapters.Hub.Routing;
using Adapters.Hub.Text;
using Adapters.Registry.Storage;
using Microsoft.Extensions.Logging;

namespace Adapters.Registry.Mirror;

/// <summary>
/// Mirror mode: before a read route runs, brings what it needs from upstream into the local store, so the ordinary
/// endpoints then serve it as if it had been pushed here. A revision becomes a stored commit whose id is upstream's
/// (same <c>sha</c>, <c>X-Repo-Commit</c> and cache paths as upstream); a file becomes a verified blob. Upstream is
/// reached only through the Hub client (<see cref="HubClient"/>, <see cref="HubRoutes"/>), with the mirror's own
/// token, and nothing of upstream's answers is passed on to clients except what was stored.
/// </summary>
internal sealed partial class UpstreamMirror : IDisposable
{
    /// <summary>The most a regular (non-LFS) file fetched from upstream may hold; it is read into memory to be hashed.</summary>
    private const long MaxRegularFileBytes = 64L * 1024 * 1024;

    private readonly UpstreamMirrorOptions _options;
    private readonly RegistryStore _store;
    private readonly HubClient _upstream;
    private readonly RepoIdPatterns _patterns;
    private readonly ILogger? _log;
    private readonly SingleFlight _blobFlights = new();
    private readonly SingleFlight _revisionFlights = new();

    /// <summary>The most upstream branches and tags a ref listing brings along.</summary>
    private const int MaxMirroredRefs = 200;

    /// <summary>How many stored blob ids <see cref="_known"/> remembers before it starts over.</summary>
    private const int MaxKnownBlobs = 100_000;

    /// <summary>Blobs seen stored, so requests for them skip the store lookup (blobs are never removed).</summary>
    private readonly ConcurrentDictionary<string, byte> _known = new(StringComparer.Ordinal);

    /// <summary>The (repository, revision) pairs whose last upstream resolution failed, so their cached answer is stale.</summary>
    private readonly ConcurrentDictionary<string, byte> _stale = new(StringComparer.Ordinal);

    /// <summary>When each (repository, branch or tag name) was last resolved upstream, in this process.</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _resolvedAt = new(StringComparer.Ordinal);

    private long _blobFetches;
    private long _revisionFetches;
    private long _bytesFetched;
    private long _failures;

    public UpstreamMirror(UpstreamMirrorOptions options, RegistryStore store, ILogger? log)
    {
        if (!options.Upstream.IsAbsoluteUri || options.Upstream.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"The mirror's upstream '{options.Upstream}' is not an http(s) URL.");
        }
        if (options.RevisionTtl < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), options.RevisionTtl, "RevisionTtl must not be negative.");
        _options = options;
        _store = store;
        _log = log;
        _patterns = new RepoIdPatterns(options.Allow, options.Deny);
        _upstream = new HubClient(new HubClientOptions
        {
            Endpoint = options.Upstream,
            Token = options.UpstreamToken,
            // The client's cache is never used: blobs go straight into the registry's store.
            CacheDirectory = Path.Combine(store.Blobs.TempRoot, "upstream-client-cache"),
        });
    }

    /// <summary>The upstream URL, for messages.</summary>
    public Uri Upstream => _options.Upstream;

    /// <summary>Blobs downloaded from upstream (one per missing blob however many clients asked).</summary>
    public long BlobFetches => Interlocked.Read(ref _blobFetches);

    /// <summary>Revisions resolved upstream (repository info requests).</summary>
    public long RevisionFetches => Interlocked.Read(ref _revisionFetches);

    /// <summary>Blob bytes downloaded from upstream.</summary>
    public long BytesFetched => Interlocked.Read(ref _bytesFetched);

    /// <summary>Upstream requests that failed (unreachable, 5xx, or content that did not verify).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public void Dispose() => _upstream.Dispose();

    /// <summary>
    /// Makes <paramref name="revision"/> of <paramref name="key"/> answerable locally, and with <paramref name="path"/>
    /// also that file's blob. Returns whether the answer is a stale resolution (upstream unreachable after the TTL).
    /// </summary>
    /// <param name="key">The repository.</param>
    /// <param name="revision">The revision the route reads.</param>
    /// <param name="path">The file the route reads, if any.</param>
    /// <param name="needsContent">Whether the file's bytes are needed (not only its record).</param>
    /// <param name="allRefs">Whether the route lists refs, so every upstream branch and tag is brought along.</param>
    /// <param name="cancellationToken">Stops waiting (work shared with other callers goes on).</param>
    public async Task<bool> PrepareAsync(RepoKey key, string revision, string? path, bool needsContent, bool allRefs, CancellationToken cancellationToken)
    {
        var local = _store.FindRepo(key);
        if (_patterns.Refusal(key.Id) is { } refusal)
        {
            // The registry's own repositories are served whatever the patterns say; only mirroring is refused.
            if (local is not null) return false;
            LogRefused(key.ToString(), refusal);
            throw RegistryException.RepoNotFound(key.ToString());
        }
        if (revision == "HEAD" || revision == "refs/heads/" + RegistryStore.DefaultBranch) revision = RegistryStore.DefaultBranch;
        var stale = false;
        if (!_options.Offline)
        {
            stale = await EnsureRevisionAsync(key, revision, cancellationToken).ConfigureAwait(false);
            if (allRefs) await SyncRefsAsync(key).ConfigureAwait(false);
        }
        if (path is null || !needsContent) return stale;
        ResolvedRevision resolved;
        try
        {
            resolved = _store.Resolve(key, revision);
        }
        catch (RegistryException)
        {
            return stale; // the endpoint answers the missing repository or revision itself
        }
        if (resolved.Commit.Files.TryGetValue(path, out var file)) await EnsureBlobAsync(key, resolved.CommitId, path, file, cancellationToken).ConfigureAwait(false);
        return stale;
    }

    private async Task<bool> EnsureRevisionAsync(RepoKey key, string revision, CancellationToken cancellationToken)
    {
        var isCommit = ContentHashes.IsSha1(revision);
        if (_store.FindRepo(key) is null && revision != RegistryStore.DefaultBranch)
        {
            // A repository's first ref is its default branch; other revisions are added to it.
            await EnsureRevisionAsync(key, RegistryStore.DefaultBranch, cancellationToken).ConfigureAwait(false);
        }
        if (isCommit && _store.FindRepo(key) is not null && _store.HasCommit(key, revision)) return false;
        var resolutionKey = $"{key.Type}/{key.Id}@{revision}";
        if (!isCommit && _resolvedAt.TryGetValue(resolutionKey, out var at) && _options.Clock.GetUtcNow() - at < _options.RevisionTtl && _store.FindRepo(key) is not null)
        {
            return false;
        }
        // Concurrent first requests for one revision share one upstream resolution (and learn from it whether it went stale).
        await _revisionFlights.RunAsync(resolutionKey, async () =>
        {
            if (!isCommit && _resolvedAt.TryGetValue(resolutionKey, out var again) && _options.Clock.GetUtcNow() - again < _options.RevisionTtl && _store.FindRepo(key) is not null) return;
            var resolvedAt = _options.Clock.GetUtcNow();
            try
            {
                await ResolveUpstreamAsync(key, revision, isCommit).ConfigureAwait(false);
                if (!isCommit) _resolvedAt[resolutionKey] = resolvedAt;
                _stale.TryRemove(resolutionKey, out _);
            }
            catch (Exception error) when (Unreachable(error))
            {
                Interlocked.Increment(ref _failures);
                if (!HasLocal(key, revision))
                {
                    throw new RegistryException(502, null, $"The mirror could not resolve {key} at '{SafeText.Escape(SafeText.Shorten(revision, 200))}' upstream: {Describe(error)}");
                }
                LogStale(key.ToString(), revision, Describe(error));
                _stale[resolutionKey] = 0;
            }
        }).ConfigureAwait(false);
        return _stale.ContainsKey(resolutionKey);
    }

    /// <summary>
    /// Brings every upstream branch and tag (at most <see cref="MaxMirroredRefs"/>) to the commit upstream names, once
    /// per TTL, for ref listings. When upstream fails, the listing shows what is cached.
    /// </summary>
    private async Task SyncRefsAsync(RepoKey key)
    {
        var syncKey = $"{key.Type}/{key.Id}#refs";
        bool Fresh() => _resolvedAt.TryGetValue(syncKey, out var at) && _options.Clock.GetUtcNow() - at < _options.RevisionTtl;
        if (Fresh()) return;
        await _revisionFlights.RunAsync(syncKey, async () =>
        {
            if (Fresh()) return;
            var syncedAt = _options.Clock.GetUtcNow();
            RepoRefs refs;
            try
            {
                refs = await _upstream.Repositories.ListRefsAsync(key.Id, key.Type, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception error) when (Unreachable(error) || error is HubHttpException)
            {
                Interlocked.Increment(ref _failures);
                LogStale(key.ToString(), "refs", Describe(error));
                return;
            }
            foreach (var name in refs.Branches.Select(b => b.Name).Concat(refs.Tags.Select(t => t.Name)).Distinct(StringComparer.Ordinal).Take(MaxMirroredRefs))
            {
                if (RegistryStore.IsValidRefName(name)) await EnsureRevisionAsync(key, name, CancellationToken.None).ConfigureAwait(false);
            }
            _resolvedAt[syncKey] = syncedAt;
        }).ConfigureAwait(false);
    }

    private bool HasLocal(RepoKey key, string revision)
    {
        if (_store.FindRepo(key) is null) return false;
        try
        {
            _store.Resolve(key, revision);
            return true;
        }
        catch (RegistryException)
        {
            return false;
        }
    }

    /// <summary>Asks upstream what <paramref name="revision"/> is and stores that commit (and the ref naming it).</summary>
    private async Task ResolveUpstreamAsync(RepoKey key, string revision, bool isCommit)
    {
        // The mirror's work outlives a client that gives up: other clients may be waiting for the same answer.
        var cancellationToken = CancellationToken.None;
        RepoInfo info;
        try
        {
            Interlocked.Increment(ref _revisionFetches);
            var uri = _upstream.Connection.BuildUri(HubRoutes.RepoInfoAtRevision.Expand(key.Type, key.Id, revision) + "?blobs=true");
            info = await _upstream.Connection.GetJsonAsync<RepoInfo>(uri, cancellationToken).ConfigureAwait(false);
        }
        catch (RevisionNotFoundException)
        {
            throw RegistryException.RevisionNotFound(key.ToString(), revision);
        }
        catch (RepositoryNotFoundException)
        {
            throw RegistryException.RepoNotFound(key.ToString());
        }
        catch (EntryNotFoundException)
        {
            throw RegistryException.RepoNotFound(key.ToString());
        }
        if (info.Sha is not { } sha || !ContentHashes.IsSha1(sha))
        {
            throw new RegistryException(502, null, $"Upstream {_options.Upstream} answered the info of {key} at '{revision}' without a commit sha.");
        }
        var commit = UpstreamCommit(key, revision, sha, info);
        var refName = isCommit ? null : await LocalRefNameAsync(key, revision, cancellationToken).ConfigureAwait(false);
        var metadata = new RepoMetadata
        {
            ObjectId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)),
            Id = key.Id,
            Type = key.Type.Singular(),
            Private = info.Private ?? false,
            CreatedAt = info.CreatedAt ?? DateTimeOffset.UtcNow,
        };
        // The card is read by info and listings: fetch it with the commit so those never find it missing.
        if (commit.Files.TryGetValue("README.md", out var readme) && !readme.Lfs)
        {
            await EnsureBlobAsync(key, sha, "README.md", readme, cancellationToken).ConfigureAwait(false);
        }
        await _store.AdoptUpstreamCommitAsync(key, metadata, commit, refName, cancellationToken).ConfigureAwait(false);
        LogResolved(key.ToString(), revision, sha);
    }

    /// <summary>The tree upstream reported, as a commit of this registry carrying upstream's id.</summary>
    private CommitRecord UpstreamCommit(RepoKey key, string revision, string sha, RepoInfo info)
    {
        var files = new SortedDictionary<string, FileRecord>(StringComparer.Ordinal);
        foreach (var sibling in info.Siblings)
        {
            var path = sibling.RelativeFileName;
            if (sibling.Lfs is { } lfs && ContentHashes.IsSha256(lfs.Sha256))
            {
                files[RepoFilePaths.Validate(path, "siblings[].rfilename")] = new FileRecord(lfs.Sha256, lfs.Size, Lfs: true, LastCommit: sha);
            }
            else if (sibling.BlobId is { } blobId && ContentHashes.IsSha1(blobId) && sibling.Size is { } size && size >= 0)
            {
                files[RepoFilePaths.Validate(path, "siblings[].rfilename")] = new FileRecord(blobId, size, Lfs: false, LastCommit: sha);
            }
            else
            {
                throw new RegistryException(502, null, $"Upstream {_options.Upstream} listed '{SafeText.Escape(SafeText.Shorten(path, 200))}' of {key} at '{revision}' without its size and hash (blobs=true).");
            }
        }
        return new CommitRecord
        {
            Id = sha,
            Parents = [],
            Title = $"Mirrored from {_options.Upstream.GetLeftPart(UriPartial.Authority)}",
            Date = info.LastModified ?? DateTimeOffset.UtcNow,
            Author = "upstream",
            Files = files,
        };
    }

    /// <summary>The local ref a branch or tag name is kept under: the default branch as is; otherwise upstream's refs say whether it is a tag.</summary>
    private async Task<string> LocalRefNameAsync(RepoKey key, string revision, CancellationToken cancellationToken)
    {
        if (revision == RegistryStore.DefaultBranch) return revision;
        if (revision.StartsWith("refs/heads/", StringComparison.Ordinal)) return revision["refs/heads/".Length..];
        if (revision.StartsWith("refs/", StringComparison.Ordinal)) return revision;
        var refs = await _upstream.Repositories.ListRefsAsync(key.Id, key.Type, cancellationToken: cancellationToken).ConfigureAwait(false);
        var isBranch = refs.Branches.Any(b => b.Name == revision);
        return !isBranch && refs.Tags.Any(t => t.Name == revision) ? RegistryStore.TagRef(revision) : revision;
    }

    /// <summary>Fetches the blob of <paramref name="file"/> unless it is stored, once however many callers ask at once.</summary>
    private async Task EnsureBlobAsync(RepoKey key, string commitId, string path, FileRecord file, CancellationToken cancellationToken)
    {
        if (_known.ContainsKey(file.Oid)) return;
        // Only one caller per blob looks it up (with S3 behind the store that is a remote call) and, if missing, fetches it.
        await _blobFlights.RunAsync(file.Oid, async () =>
        {
            if (!IsStored(file))
            {
                if (_options.Offline) throw new RegistryException(404, "EntryNotFound", $"Entry not cached: {path} of {key} (the mirror is offline)");
                await FetchBlobAsync(key, commitId, path, file).ConfigureAwait(false);
            }
            if (_known.Count >= MaxKnownBlobs) _known.Clear();
            _known.TryAdd(file.Oid, 0);
        }).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private bool IsStored(FileRecord file) =>
        file.Lfs ? _store.Blobs.LfsSize(file.Oid) is not null : File.Exists(_store.Blobs.GitPath(file.Oid));

    private async Task FetchBlobAsync(RepoKey key, string commitId, string path, FileRecord file)
    {
        var cancellationToken = CancellationToken.None;
        var uri = _upstream.Connection.BuildUri(HubRoutes.ResolveFile.Expand(key.Type, key.Id, commitId, path));
        Interlocked.Increment(ref _blobFetches);
        try
        {
            using var response = await _upstream.Connection.SendAsync(HttpMethod.Get, uri, RedirectPolicy.All, cancellationToken: cancellationToken).ConfigureAwait(false);
            await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var counted = new CountingStream(body, n => Interlocked.Add(ref _bytesFetched, n));
            if (file.Lfs)
            {
                // Streams to a temporary file while hashing; adopted only when size and sha256 match.
                await _store.Blobs.PutLfsAsync(counted, file.Oid, file.Size, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                if (file.Size > MaxRegularFileBytes) throw new RegistryException(502, null, $"Upstream's regular file {path} of {key} has {file.Size} bytes, over the mirror's {MaxRegularFileBytes}.");
                using var buffer = new MemoryStream((int)file.Size);
                await counted.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
                var content = buffer.ToArray();
                var actual = ContentHashes.GitBlobSha1(content);
                if (content.LongLength != file.Size || actual != file.Oid)
                {
                    throw new RegistryException(502, null, $"Upstream's {path} of {key} at {commitId} hashes to git blob {actual} ({content.LongLength} bytes), not to the announced {file.Oid} ({file.Size} bytes); it was not kept.");
                }
                _store.Blobs.PutGitBlob(content);
            }
            LogFetched(key.ToString(), path, file.Size);
        }
        catch (RegistryException error) when (error.StatusCode == 400)
        {
            // BlobStore's verdict on content that does not match its announced hash or size.
            Interlocked.Increment(ref _failures);
            throw new RegistryException(502, null, $"Upstream's {path} of {key} at {commitId} did not verify: {error.Message} It was not kept.");
        }
        catch (Exception error) when (Unreachable(error))
        {
            Interlocked.Increment(ref _failures);
            throw new RegistryException(502, null, $"The mirror could not fetch {path} of {key} from upstream: {Describe(error)}");
        }
    }

    /// <summary>Failures that say nothing about the repository: upstream down, timing out, or answering 5xx/429.</summary>
    private static bool Unreachable(Exception error) => error switch
    {
        HttpRequestException or TaskCanceledException or IOException => true,
        HubHttpException http => (int)http.StatusCode >= 500 || http.StatusCode == HttpStatusCode.TooManyRequests,
        HubException other => other.InnerException is HttpRequestException or TaskCanceledException or IOException,
        _ => false,
    };

    /// <summary>An upstream failure for messages: the exception's type and message, which the Hub client already strips of tokens.</summary>
    private string Describe(Exception error) =>
        SecretRedactor.Redact($"{error.GetType().Name}: {error.Message}", [_options.UpstreamToken]);

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "mirror resolved {Repo}@{Revision} to {Commit}")]
    private partial void LogResolvedCore(string repo, string revision, string commit);

    private void LogResolved(string repo, string revision, string commit) { if (_log is not null) LogResolvedCore(repo, SafeText.Escape(SafeText.Shorten(revision, 200)), commit); }

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "mirror fetched {Repo}/{Path} ({Bytes} bytes)")]
    private partial void LogFetchedCore(string repo, string path, long bytes);

    private void LogFetched(string repo, string path, long bytes) { if (_log is not null) LogFetchedCore(repo, SafeText.Escape(SafeText.Shorten(path, 200)), bytes); }

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "mirror serves {Repo}@{Revision} stale: upstream failed ({Reason})")]
    private partial void LogStaleCore(string repo, string revision, string reason);

    private void LogStale(string repo, string revision, string reason) { if (_log is not null) LogStaleCore(repo, SafeText.Escape(SafeText.Shorten(revision, 200)), reason); }

    [LoggerMessage(EventId = 203, Level = LogLevel.Information, Message = "mirror refused {Repo}: {Reason}")]
    private partial void LogRefusedCore(string repo, string reason);

    private void LogRefused(string repo, string reason) { if (_log is not null) LogRefusedCore(repo, reason); }
}
