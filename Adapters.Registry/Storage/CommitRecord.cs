using System.Text.Json.Serialization;

namespace Adapters.Registry.Storage;

/// <summary>
/// One immutable commit: the full manifest of the tree (path to content address) plus its parent and
/// message. Stored as <c>commits/&lt;id&gt;.json</c>; the id is the SHA-1 of everything else, so a commit
/// file can be checked against its own name.
/// </summary>
internal sealed record CommitRecord
{
    [JsonPropertyName("id")] public string Id { get; init; } = "";

    [JsonPropertyName("parents")] public IReadOnlyList<string> Parents { get; init; } = [];

    [JsonPropertyName("title")] public string Title { get; init; } = "";

    [JsonPropertyName("description")] public string Description { get; init; } = "";

    [JsonPropertyName("date")] public DateTimeOffset Date { get; init; }

    /// <summary>The account that made the commit; <c>system</c> for a repository's initial commit (absent in records written before authors were kept).</summary>
    [JsonPropertyName("author"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Author { get; init; }

    [JsonPropertyName("files")] public SortedDictionary<string, FileRecord> Files { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A file of a commit: <see cref="Oid"/> is the git blob SHA-1 of a regular file or the SHA-256 of an
/// LFS object, and <see cref="LastCommit"/> the commit that last changed it. An LFS file uploaded through Xet
/// has no LFS object: <see cref="XetHash"/> names its reconstruction (<c>Xet/XetStorage</c>).
/// </summary>
internal sealed record FileRecord(
    [property: JsonPropertyName("oid")] string Oid,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("lfs")] bool Lfs,
    [property: JsonPropertyName("lastCommit")] string? LastCommit = null,
    [property: JsonPropertyName("xetHash"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? XetHash = null);
