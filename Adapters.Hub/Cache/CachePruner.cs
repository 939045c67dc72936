namespace Adapters.Hub.Cache;

/// <summary>The outcome of <see cref="CachePruner.Prune"/>.</summary>
/// <param name="DeletedRevisions">Snapshots removed, as <c>repo@commit</c>.</param>
/// <param name="DeletedRepos">Repositories removed whole (no ref pointed into them).</param>
/// <param name="DeletedBlobs">Blobs no remaining snapshot used.</param>
/// <param name="FreedBytes">Bytes of the deleted blobs.</param>
/// <param name="DryRun">True when nothing was deleted, only reported.</param>
public sealed record CachePruneResult(IReadOnlyList<string> DeletedRevisions, IReadOnlyList<string> DeletedRepos, IReadOnlyList<string> DeletedBlobs, long FreedBytes, bool DryRun);

/// <summary>
/// Deletes revisions no ref points to (snapshot, <c>.no_exist</c> markers and cached tree listing), then the
/// blobs only they used; a repository without any ref is
/// deleted whole (with its locks). Partial downloads (<c>.incomplete</c>) are kept for resuming.
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
        long freed = 0;

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
        return new CachePruneResult(revisions, repos, blobs, freed, dryRun);
    }
}
