using System.Text.Json.Serialization;

namespace Adapters.Registry.Storage;

/// <summary>
/// A discussion or pull request (<c>discussions/&lt;num&gt;.json</c>). Discussions and pull requests share one
/// numbering per repository, as on the Hub; a pull request's commits live on <c>refs/pr/&lt;num&gt;</c>, which
/// was cut from <see cref="BaseCommit"/> of <see cref="TargetBranch"/>.
/// </summary>
internal sealed record DiscussionRecord
{
    [JsonPropertyName("num")] public int Number { get; init; }

    [JsonPropertyName("title")] public string Title { get; init; } = "";

    [JsonPropertyName("author")] public string Author { get; init; } = "";

    [JsonPropertyName("createdAt")] public DateTimeOffset CreatedAt { get; init; }

    [JsonPropertyName("isPullRequest")] public bool IsPullRequest { get; init; }

    /// <summary><c>open</c>, <c>closed</c>, <c>merged</c> (pull requests) or <c>draft</c> (pull requests not yet opened).</summary>
    [JsonPropertyName("status")] public string Status { get; init; } = DiscussionStatus.Open;

    /// <summary>The branch a pull request merges into.</summary>
    [JsonPropertyName("targetBranch")] public string? TargetBranch { get; init; }

    /// <summary>The commit of <see cref="TargetBranch"/> the pull request started from: the merge base of its three-way merge.</summary>
    [JsonPropertyName("baseCommit")] public string? BaseCommit { get; init; }

    [JsonPropertyName("mergeCommitId")] public string? MergeCommitId { get; init; }

    [JsonPropertyName("events")] public IReadOnlyList<DiscussionEventRecord> Events { get; init; } = [];

    /// <summary>The git reference of a pull request's commits.</summary>
    public static string PullRequestRef(int number) => $"refs/pr/{number}";
}

/// <summary>
/// One event of a discussion, with the fields its <see cref="Type"/> uses: a comment (<see cref="Content"/>,
/// edited, hidden), a status change (<see cref="Status"/>), a commit (<see cref="Subject"/>, <see cref="Oid"/>)
/// or a title change (<see cref="From"/>, <see cref="To"/>).
/// </summary>
internal sealed record DiscussionEventRecord
{
    public const string Comment = "comment";
    public const string StatusChange = "status-change";
    public const string Commit = "commit";
    public const string TitleChange = "title-change";

    [JsonPropertyName("id")] public string Id { get; init; } = "";

    [JsonPropertyName("type")] public string Type { get; init; } = Comment;

    [JsonPropertyName("createdAt")] public DateTimeOffset CreatedAt { get; init; }

    [JsonPropertyName("author")] public string Author { get; init; } = "";

    [JsonPropertyName("content"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Content { get; init; }

    [JsonPropertyName("updatedAt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? UpdatedAt { get; init; }

    [JsonPropertyName("numEdits")] public int NumEdits { get; init; }

    [JsonPropertyName("hidden")] public bool Hidden { get; init; }

    [JsonPropertyName("status"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Status { get; init; }

    [JsonPropertyName("subject"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Subject { get; init; }

    [JsonPropertyName("oid"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Oid { get; init; }

    [JsonPropertyName("from"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? From { get; init; }

    [JsonPropertyName("to"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? To { get; init; }
}

/// <summary>The statuses of a discussion as the Hub names them.</summary>
internal static class DiscussionStatus
{
    public const string Open = "open";
    public const string Closed = "closed";
    public const string Merged = "merged";
    public const string Draft = "draft";
}
