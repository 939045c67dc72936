using System.Globalization;
using System.Text;
using System.Text.Json;
using Adapters.Hub.IO;
using Adapters.Hub.Repositories;

namespace Adapters.Hub.Cache;

/// <summary>One file of a cached tree listing.</summary>
/// <param name="Size">Content size in bytes.</param>
/// <param name="BlobId">The git blob SHA-1 (the tree entry's <c>oid</c>).</param>
/// <param name="LfsSha256">SHA-256 of the content for LFS files.</param>
/// <param name="LfsSize">LFS content size (only written together with <paramref name="LfsSha256"/>).</param>
/// <param name="XetHash">Xet file hash (64 hex), for Xet-backed files.</param>
public sealed record TreeCacheEntry(long Size, string BlobId, string? LfsSha256, long? LfsSize, string? XetHash)
{
    /// <summary>The hash the file's content can be checked against: the LFS SHA-256, else the git blob SHA-1.</summary>
    public string? ContentHash => LfsSha256 is { } sha && HubCache.IsSha256(sha) ? sha : HubCache.IsSha1(BlobId) ? BlobId : null;
}

/// <summary>
/// <c>&lt;repo folder&gt;/trees/&lt;commit&gt;.json</c>, the recursive file listing of a commit that Python
/// <c>huggingface_hub</c> 1.22+ writes from <c>snapshot_download</c> and reads offline:
/// <c>{"format_version": 1, "files": {"&lt;path&gt;": {"size", "blob_id", "lfs_sha256"?, "lfs_size"?, "xet_hash"?}}}</c>,
/// paths sorted, one-space indentation, ASCII-escaped (<c>json.dump(..., indent=1)</c>). Listings with an
/// unknown format, a corrupt body or a malformed Xet hash are ignored, as Python ignores them.
/// </summary>
public static class TreeCache
{
    /// <summary>The only format version written and read.</summary>
    public const int FormatVersion = 1;

    /// <summary>The largest listing read (a 100,000-file repository needs about 20 MB).</summary>
    public const long MaxBytes = 64L << 20;

    /// <summary>The listing file of <paramref name="commit"/>.</summary>
    public static string PathFor(string repoFolder, string commit)
    {
        if (!HubCache.IsCommitHash(commit)) throw new ArgumentException($"'{commit}' is not a 40-character lowercase hex commit id.", nameof(commit));
        return Path.Combine(repoFolder, "trees", commit + ".json");
    }

    /// <summary>The cached listing of <paramref name="commit"/>, or null when there is none or it cannot be used.</summary>
    public static IReadOnlyDictionary<string, TreeCacheEntry>? Read(string repoFolder, string commit)
    {
        var path = PathFor(repoFolder, commit);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxBytes) return null;
            using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 8 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("format_version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v) || v != FormatVersion
                || !root.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            var entries = new SortedDictionary<string, TreeCacheEntry>(StringComparer.Ordinal);
            foreach (var file in files.EnumerateObject())
            {
                var e = file.Value;
                if (e.ValueKind != JsonValueKind.Object || !RepoPaths.IsSafe(file.Name)) return null;
                if (!e.TryGetProperty("size", out var size) || !size.TryGetInt64(out var sizeValue) || sizeValue < 0) return null;
                if (!e.TryGetProperty("blob_id", out var blob) || blob.ValueKind != JsonValueKind.String) return null;
                var lfs = OptionalString(e, "lfs_sha256");
                long? lfsSize = e.TryGetProperty("lfs_size", out var ls) && ls.TryGetInt64(out var lsValue) ? lsValue : null;
                var xet = OptionalString(e, "xet_hash");
                if (xet is not null && !HubCache.IsSha256(xet)) return null;
                entries[file.Name] = new TreeCacheEntry(sizeValue, blob.GetString()!, lfs, lfsSize, xet);
            }
            return entries;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Writes the listing of <paramref name="commit"/> from tree entries (files only), atomically, in Python's
    /// exact format. Nothing is written when an entry carries a Xet hash that is not 64 hex characters.
    /// </summary>
    /// <returns>The file written, or null when the listing was not written.</returns>
    public static string? Write(string repoFolder, string commit, IEnumerable<RepoTreeEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var path = PathFor(repoFolder, commit);
        var files = new SortedDictionary<string, RepoTreeEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!entry.IsFile) continue;
            if (entry.XetHash is { } xet && !HubCache.IsSha256(xet)) return null;
            files[entry.Path] = entry;
        }
        var text = new StringBuilder("{\n \"format_version\": 1,\n \"files\": {");
        var first = true;
        foreach (var (name, entry) in files)
        {
            text.Append(first ? "\n" : ",\n");
            first = false;
            text.Append("  ").Append(Quote(name)).Append(": {\n");
            text.Append("   \"size\": ").Append(entry.Size.ToString(CultureInfo.InvariantCulture)).Append(",\n");
            text.Append("   \"blob_id\": ").Append(Quote(entry.Oid));
            if (entry.Lfs is { } lfs && lfs.Oid.Length > 0)
            {
                text.Append(",\n   \"lfs_sha256\": ").Append(Quote(lfs.Oid));
                text.Append(",\n   \"lfs_size\": ").Append(lfs.Size.ToString(CultureInfo.InvariantCulture));
            }
            if (entry.XetHash is { } xetHash) text.Append(",\n   \"xet_hash\": ").Append(Quote(xetHash));
            text.Append("\n  }");
        }
        text.Append(first ? "}\n}" : "\n }\n}");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(path, text.ToString());
        return path;
    }

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>A JSON string as Python's <c>json.dumps</c> writes it with <c>ensure_ascii=True</c>.</summary>
    private static string Quote(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7E) text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else text.Append(c);
                    break;
            }
        }
        return text.Append('"').ToString();
    }
}
