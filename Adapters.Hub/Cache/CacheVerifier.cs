using Adapters.Hub.Download;

namespace Adapters.Hub.Cache;

/// <summary>A blob whose content does not hash to its name.</summary>
/// <param name="RepoId">The repository.</param>
/// <param name="BlobPath">The blob.</param>
/// <param name="Expected">Its name (the etag).</param>
/// <param name="Actual">What its content hashes to.</param>
public sealed record CorruptBlob(string RepoId, string BlobPath, string Expected, string Actual);

/// <summary>The outcome of <see cref="CacheVerifier.VerifyAsync"/>.</summary>
/// <param name="BlobsChecked">Blobs hashed or fingerprint-checked.</param>
/// <param name="FingerprintHits">Blobs accepted by their XxHash128 fingerprint instead of a full hash.</param>
/// <param name="Corrupted">Blobs that fail their hash.</param>
/// <param name="DanglingEntries">Snapshot entries whose blob is missing.</param>
/// <param name="Unverifiable">Blobs whose name is not a SHA-1 or SHA-256 and that no cached listing gives a hash for, so there is nothing to compare.</param>
public sealed record CacheVerification(int BlobsChecked, int FingerprintHits, IReadOnlyList<CorruptBlob> Corrupted, IReadOnlyList<string> DanglingEntries, IReadOnlyList<string> Unverifiable)
{
    /// <summary>True when nothing is corrupted or dangling.</summary>
    public bool IsHealthy => Corrupted.Count == 0 && DanglingEntries.Count == 0;
}

/// <summary>
/// Recomputes every blob's hash against its name (the etag): SHA-256 for LFS blobs, git blob SHA-1 for
/// the others. Works on caches written by Python. With <c>useFingerprints</c>, blobs that verified
/// before and have not changed are re-checked with XxHash128 instead.
/// </summary>
public static class CacheVerifier
{
    /// <summary>Verifies every blob of every repository in <paramref name="cacheDirectory"/>.</summary>
    public static async Task<CacheVerification> VerifyAsync(string cacheDirectory, bool useFingerprints = false, CancellationToken cancellationToken = default)
    {
        var report = CacheScanner.Scan(cacheDirectory);
        var cache = new HubCache(cacheDirectory);
        var corrupted = new List<CorruptBlob>();
        var dangling = report.Warnings.Where(w => w.Contains("points to the missing blob", StringComparison.Ordinal)).ToList();
        var unverifiable = new List<string>();
        int checkedCount = 0, fingerprintHits = 0;

        foreach (var repo in report.Repos)
        {
            var blobsFolder = Path.Combine(repo.RepoPath, "blobs");
            if (!Directory.Exists(blobsFolder)) continue;
            foreach (var blob in Directory.EnumerateFiles(blobsFolder).Order(StringComparer.Ordinal))
            {
                var etag = Path.GetFileName(blob);
                if (etag.EndsWith(".incomplete", StringComparison.Ordinal)) continue;
                if (PartialDownloads.TryParse(etag, out _)) continue;
                if (!HubCache.IsSha1(etag) && !HubCache.IsSha256(etag))
                {
                    // A non-hash etag: the commit's cached listing (trees/<commit>.json) may still name the content hash.
                    if (ListedHash(repo, blob) is not { } listed)
                    {
                        unverifiable.Add(blob);
                        continue;
                    }
                    checkedCount++;
                    var listedActual = new FileInfo(blob).Length != listed.Size ? $"size {new FileInfo(blob).Length}" : await ContentHasher.HashFileAsync(blob, listed.Hash, cancellationToken).ConfigureAwait(false);
                    if (listedActual != listed.Hash) corrupted.Add(new CorruptBlob(repo.RepoId, blob, listed.Hash, listedActual!));
                    continue;
                }
                checkedCount++;
                var fingerprint = BlobFingerprint.PathFor(cache, repo.RepoPath, etag);
                if (useFingerprints && await BlobFingerprint.MatchesAsync(fingerprint, blob, cancellationToken).ConfigureAwait(false))
                {
                    fingerprintHits++;
                    continue;
                }
                var actual = await ContentHasher.HashFileAsync(blob, etag, cancellationToken).ConfigureAwait(false);
                if (actual != etag)
                {
                    corrupted.Add(new CorruptBlob(repo.RepoId, blob, etag, actual!));
                    if (File.Exists(fingerprint)) File.Delete(fingerprint);
                }
                else if (useFingerprints)
                {
                    BlobFingerprint.Write(fingerprint, blob, await BlobFingerprint.HashFileAsync(blob, cancellationToken).ConfigureAwait(false));
                }
            }
        }
        return new CacheVerification(checkedCount, fingerprintHits, corrupted, dangling, unverifiable);
    }

    /// <summary>The content hash and size a cached listing gives for a blob that some snapshot entry uses.</summary>
    private static (string Hash, long Size)? ListedHash(CachedRepo repo, string blob)
    {
        foreach (var revision in repo.Revisions)
        {
            foreach (var file in revision.Files.Where(f => f.BlobPath == blob))
            {
                if (TreeCache.Read(repo.RepoPath, revision.CommitHash) is { } tree && tree.TryGetValue(file.Path, out var entry) && entry.ContentHash is { } hash)
                {
                    return (hash, entry.LfsSize ?? entry.Size);
                }
            }
        }
        return null;
    }
}
