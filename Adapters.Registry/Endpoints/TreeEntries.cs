using System.Text;
using Adapters.Registry.Storage;

namespace Adapters.Registry.Endpoints;

/// <summary>
/// The Hub's tree entries built from a commit manifest: files as <c>{type, oid, size, path, lfs?}</c> (an LFS
/// file's <c>oid</c> is its pointer's git SHA-1, <c>lfs.oid</c> the content SHA-256) and folders as
/// <c>{type:"directory", oid, size:0, path}</c>.
/// </summary>
internal static class TreeEntries
{
    /// <summary>Entries under <paramref name="folder"/> ("" for the root), direct children only unless <paramref name="recursive"/>.</summary>
    public static List<(string Path, FileRecord? File)> List(CommitRecord commit, string folder, bool recursive)
    {
        var prefix = folder.Length == 0 ? "" : folder.TrimEnd('/') + "/";
        var entries = new SortedDictionary<string, FileRecord?>(StringComparer.Ordinal);
        foreach (var (path, file) in commit.Files)
        {
            if (!path.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = path[prefix.Length..];
            var parts = rest.Split('/');
            for (var depth = 1; depth < parts.Length && (recursive || depth == 1); depth++)
            {
                entries.TryAdd(prefix + string.Join('/', parts[..depth]), null);
            }
            if (recursive || parts.Length == 1) entries[path] = file;
        }
        return entries.Select(e => (e.Key, e.Value)).ToList();
    }

    public static bool IsFolder(CommitRecord commit, string path) =>
        commit.Files.Keys.Any(p => p.StartsWith(path.TrimEnd('/') + "/", StringComparison.Ordinal));

    public static Dictionary<string, object?> ToJson(RegistryStore store, RepoKey key, CommitRecord commit, string path, FileRecord? file, bool expand)
    {
        if (file is null)
        {
            return new Dictionary<string, object?>
            {
                ["type"] = "directory",
                ["oid"] = FolderOid(commit, path),
                ["size"] = 0,
                ["path"] = path,
            };
        }
        var entry = new Dictionary<string, object?>
        {
            ["type"] = "file",
            ["oid"] = file.Lfs ? LfsPointer.GitOid(file.Oid, file.Size) : file.Oid,
            ["size"] = file.Size,
            ["path"] = path,
        };
        if (file.Lfs)
        {
            entry["lfs"] = new Dictionary<string, object?> { ["oid"] = file.Oid, ["size"] = file.Size, ["pointerSize"] = LfsPointer.Size(file.Oid, file.Size) };
        }
        if (file.XetHash is { } xetHash) entry["xetHash"] = xetHash;
        if (expand && file.LastCommit is { } last)
        {
            var changed = last == commit.Id ? commit : store.ReadCommit(key, last);
            entry["lastCommit"] = new Dictionary<string, object?> { ["id"] = changed.Id, ["title"] = changed.Title, ["date"] = HttpIo.Date(changed.Date) };
        }
        return entry;
    }

    /// <summary>A stable id for a folder's content (not git's tree hash, which needs the git object format; clients only compare it).</summary>
    private static string FolderOid(CommitRecord commit, string folder)
    {
        var prefix = folder.TrimEnd('/') + "/";
        var listing = new StringBuilder();
        foreach (var (path, file) in commit.Files.Where(f => f.Key.StartsWith(prefix, StringComparison.Ordinal)))
        {
            listing.Append(path).Append('\0').Append(file.Oid).Append('\n');
        }
        return ContentHashes.Sha1(Encoding.UTF8.GetBytes(listing.ToString()));
    }
}
