using System.Text.Json.Serialization;

namespace Adapters.Hub.Repositories;

/// <summary>One entry of <c>GET /api/{type}/{repo}/tree/{revision}</c>: a file or a directory.</summary>
public sealed class RepoTreeEntry
{
    /// <summary><c>file</c> or <c>directory</c>.</summary>
    [JsonPropertyName("type")] public string Type { get; init; } = "";

    /// <summary>Path inside the repository.</summary>
    [JsonPropertyName("path")] public string Path { get; init; } = "";

    /// <summary>Git object id (blob SHA-1 for files, tree SHA-1 for directories).</summary>
    [JsonPropertyName("oid")] public string Oid { get; init; } = "";

    /// <summary>Size in bytes (the content size for LFS files).</summary>
    [JsonPropertyName("size")] public long Size { get; init; }

    /// <summary>LFS details; the tree names the SHA-256 <c>oid</c>.</summary>
    [JsonPropertyName("lfs")] public TreeLfs? Lfs { get; init; }

    /// <summary>Xet file id, when the file is Xet-backed.</summary>
    [JsonPropertyName("xetHash")] public string? XetHash { get; init; }

    /// <summary>The last commit touching the entry (with <c>expand=true</c>).</summary>
    [JsonPropertyName("lastCommit")] public LastCommit? LastCommit { get; init; }

    /// <summary>Whether this is a file.</summary>
    [JsonIgnore] public bool IsFile => Type == "file";

    /// <summary>The etag the cache names this file's blob by: the LFS SHA-256, else the git SHA-1.</summary>
    [JsonIgnore] public string BlobEtag => Lfs?.Oid ?? Oid;
}

/// <summary>LFS details of a tree entry.</summary>
public sealed class TreeLfs
{
    /// <summary>SHA-256 of the content.</summary>
    [JsonPropertyName("oid")] public string Oid { get; init; } = "";

    /// <summary>Content size.</summary>
    [JsonPropertyName("size")] public long Size { get; init; }

    /// <summary>Size of the pointer file in git.</summary>
    [JsonPropertyName("pointerSize")] public long? PointerSize { get; init; }
}

/// <summary>A commit summary in an expanded tree entry.</summary>
public sealed class LastCommit
{
    /// <summary>Commit id.</summary>
    [JsonPropertyName("id")] public string Id { get; init; } = "";

    /// <summary>Commit title.</summary>
    [JsonPropertyName("title")] public string? Title { get; init; }

    /// <summary>Commit date.</summary>
    [JsonPropertyName("date")] public DateTimeOffset? Date { get; init; }
}
