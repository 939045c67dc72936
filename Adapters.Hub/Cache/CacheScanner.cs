namespace Adapters.Hub.Cache;

/// <summary>
/// Lists what a Hub cache holds, reading the layout Python's <c>scan_cache_dir</c> reads: repository
/// folders, <c>refs/</c> (nested for names with <c>/</c>), <c>snapshots/&lt;commit&gt;</c> entries and the blobs they point to.
/// </summary>
public static class CacheScanner
{
    /// <summary>Scans <paramref name="cacheDirectory"/>; a missing folder gives an empty report.</summary>
    public static CacheReport Scan(string cacheDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cacheDirectory);
        var root = Path.GetFullPath(cacheDirectory);
        var repos = new List<CachedRepo>();
        var warnings = new List<string>();
        if (!Directory.Exists(root)) return new CacheReport(root, repos, warnings, 0);

        foreach (var folder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(folder);
            if (name == ".locks") continue;
            if (!RepoIds.TryParseFolderName(name, out var repoId, out var repoType))
            {
                warnings.Add($"{folder}: not a repository folder (expected models--, datasets-- or spaces-- followed by the id).");
                continue;
            }
            if (!Directory.Exists(Path.Combine(folder, "snapshots")))
            {
                warnings.Add($"{folder}: no snapshots/ folder.");
                continue;
            }
            repos.Add(ScanRepo(folder, repoId, repoType, warnings));
        }
        return new CacheReport(root, repos, warnings, repos.Sum(r => r.SizeOnDisk));
    }

    /// <summary>Every ref of a repository folder: name (with <c>/</c>) to commit.</summary>
    public static IReadOnlyDictionary<string, string> ReadRefs(string repoFolder)
    {
        var refs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var refsFolder = Path.Combine(repoFolder, "refs");
        if (!Directory.Exists(refsFolder)) return refs;
        foreach (var file in Directory.EnumerateFiles(refsFolder, "*", SearchOption.AllDirectories))
        {
            var commit = File.ReadAllText(file).Trim();
            if (HubCache.IsCommitHash(commit)) refs[Path.GetRelativePath(refsFolder, file).Replace(Path.DirectorySeparatorChar, '/')] = commit;
        }
        return refs;
    }

    private static CachedRepo ScanRepo(string folder, string repoId, RepoType repoType, List<string> warnings)
    {
        var refs = ReadRefs(folder);
        var revisions = new List<CachedRevision>();
        var allBlobs = new Dictionary<string, FileInfo>(StringComparer.Ordinal);
        foreach (var snapshot in Directory.EnumerateDirectories(Path.Combine(folder, "snapshots")).Order(StringComparer.Ordinal))
        {
            var commit = Path.GetFileName(snapshot);
            if (!HubCache.IsCommitHash(commit))
            {
                warnings.Add($"{snapshot}: snapshot folder name is not a commit id.");
                continue;
            }
            var files = new List<CachedFile>();
            var revisionBlobs = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var entry in Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var blob = ResolveBlob(entry);
                var info = new FileInfo(blob);
                if (!info.Exists)
                {
                    warnings.Add($"{entry}: points to the missing blob {blob}.");
                    continue;
                }
                files.Add(new CachedFile(Path.GetRelativePath(snapshot, entry).Replace(Path.DirectorySeparatorChar, '/'), entry, blob, info.Length));
                revisionBlobs[blob] = info.Length;
                allBlobs[blob] = info;
            }
            var revisionRefs = refs.Where(kv => kv.Value == commit).Select(kv => kv.Key).ToList();
            revisions.Add(new CachedRevision(commit, snapshot, revisionRefs, files, revisionBlobs.Values.Sum()));
        }
        DateTimeOffset? lastModified = allBlobs.Count == 0 ? null : allBlobs.Values.Max(b => new DateTimeOffset(b.LastWriteTimeUtc));
        return new CachedRepo(repoId, repoType, folder, revisions, refs, allBlobs.Values.Sum(b => b.Length), allBlobs.Count, lastModified);
    }

    /// <summary>The blob a snapshot entry stands for: its symlink target, or itself when it is a copy.</summary>
    internal static string ResolveBlob(string entry)
    {
        var info = new FileInfo(entry);
        if (info.LinkTarget is not { } target) return info.FullName;
        return Path.GetFullPath(Path.Combine(Path.GetDirectoryName(info.FullName)!, target));
    }
}
