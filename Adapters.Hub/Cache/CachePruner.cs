namespace Adapters.Hub.Cache;

/// <summary>The outcome of <see cref="CachePruner.Prune"/>.</summary>
/// <param name="DeletedRevisions">Snapshots removed, as <c>repo@commit</c>.</param>
/// <param name="DeletedRepos">Repositories removed whole (no ref pointed into them).</param>
/// <param name="DeletedBlobs">Blobs no remaining snapshot used.</param>
/// <param name="FreedBytes">Bytes of the deleted blobs and partial downloads.</param>
/// <param name="DryRun">True when nothing was deleted, only reported.</param>
/// <param name="DeletedPartials">Abandoned partial downloads (<c>&lt;etag&gt;.incomplete</c> and <c>&lt;etag&gt;.&lt;8 hex&gt;.incomplete</c>) whose lock was free.</param>
public sealed record CachePruneResult(IReadOnlyList<string> DeletedRevisions, IReadOnlyList<string> DeletedRepos, IReadOnlyList<string> DeletedBlobs, long FreedBytes, bool DryRun, IReadOnlyList<string> DeletedPartials);

/// <summary>
/// Deletes revisions no ref points to (snapshot, <c>.no_exist</c> markers and cached tree listing), then the
/// blobs only they used; a repository without any ref is
/// deleted whole (with its locks). Partial downloads in both of Python's naming schemes are deleted
/// unless a download holds their blob's lock (Python 1.18+ never resumes them; a stale one of ours would
/// only be resumed by a pull of the same blob).
/// </summary>
public static class CachePruner
{
    /// <summary>Prunes <paramref name="cacheDirectory"/>, or only reports what would go when <paramref name="dryRun"/>.</summary>
    public static CachePruneResult Prune(string cacheDirectory, bool dryRun = false)
    {
        var report = CacheScanner.Scan(cacheDirectory);
        var revisions = new List<string>();
        var repos = new List<string>();
        var blobs = new List<string>();
        var partials = new List<string>();
        long freed = 0;
        var cache = new HubCache(report.CacheDirectory);

        foreach (var repo in report.Repos)
        {
            var label = $"{repo.RepoType.Singular()}:{repo.RepoId}";
            var referenced = repo.Refs.Values.ToHashSet(StringComparer.Ordinal);
            if (referenced.Count == 0)
            {
                repos.Add(label);
                var repoBlobs = Path.Combine(repo.RepoPath, "blobs");
                if (Directory.Exists(repoBlobs))
                {
                    foreach (var blob in Directory.EnumerateFiles(repoBlobs))
                    {
                        blobs.Add(blob);
                        freed += new FileInfo(blob).Length;
                    }
                }
                if (!dryRun)
                {
                    Directory.Delete(repo.RepoPath, recursive: true);
                    var locks = Path.Combine(report.CacheDirectory, ".locks", Path.GetFileName(repo.RepoPath));
                    if (Directory.Exists(locks)) Directory.Delete(locks, recursive: true);
                }
                continue;
            }

            freed += PrunePartials(cache, repo.RepoPath, dryRun, partials);
            var kept = new HashSet<string>(StringComparer.Ordinal);
            foreach (var revision in repo.Revisions)
            {
                if (referenced.Contains(revision.CommitHash))
                {
                    foreach (var file in revision.Files) kept.Add(file.BlobPath);
                    continue;
                }
                revisions.Add($"{label}@{revision.CommitHash}");
                if (!dryRun)
                {
                    Directory.Delete(revision.SnapshotPath, recursive: true);
                    var noExist = Path.Combine(repo.RepoPath, ".no_exist", revision.CommitHash);
                    if (Directory.Exists(noExist)) Directory.Delete(noExist, recursive: true);
                    // Python 1.22+ caches the revision's tree listing beside the snapshots.
                    var tree = Path.Combine(repo.RepoPath, "trees", revision.CommitHash + ".json");
                    if (File.Exists(tree)) File.Delete(tree);
                }
            }
            foreach (var blob in repo.Revisions.SelectMany(r => r.Files).Select(f => f.BlobPath).Distinct(StringComparer.Ordinal))
            {
                if (kept.Contains(blob) || !blob.StartsWith(Path.Combine(repo.RepoPath, "blobs") + Path.DirectorySeparatorChar, StringComparison.Ordinal)) continue;
                blobs.Add(blob);
                freed += new FileInfo(blob).Length;
                if (!dryRun) File.Delete(blob);
            }
        }
        return new CachePruneResult(revisions, repos, blobs, freed, dryRun, partials);
    }

    private static long PrunePartials(HubCache cache, string repoFolder, bool dryRun, List<string> deleted)
    {
        var blobsFolder = Path.Combine(repoFolder, "blobs");
        if (!Directory.Exists(blobsFolder)) return 0;
        long freed = 0;
        foreach (var file in Directory.EnumerateFiles(blobsFolder, "*" + PartialDownloads.Suffix).Order(StringComparer.Ordinal))
        {
            if (!PartialDownloads.TryParse(Path.GetFileName(file), out var etag)) continue;
            string lockPath;
            try
            {
                lockPath = cache.LockPath(repoFolder, etag);
            }
            catch (ArgumentException)
            {
                continue;
            }
            using var held = CacheLock.TryAcquire(lockPath);
            if (held is null) continue;
            var length = new FileInfo(file).Length;
            if (!dryRun) File.Delete(file);
            deleted.Add(file);
            freed += length;
        }
        return freed;
    }
}
