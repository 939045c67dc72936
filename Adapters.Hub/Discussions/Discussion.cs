using System.Text.Json;
using System.Text.Json.Serialization;

namespace Adapters.Hub.Discussions;

/// <summary>A discussion or pull request of a repository, as the discussions listing returns it.</summary>
public class Discussion
{
    /// <summary>Its number (also the <c>N</c> of <c>refs/pr/N</c> for a pull request).</summary>
    public int Num { get; init; }

    /// <summary>Its title.</summary>
    public string Title { get; init; } = "";

    /// <summary><c>open</c>, <c>closed</c>, <c>merged</c> or <c>draft</c>.</summary>
    public string Status { get; init; } = "";

    /// <summary>Whether it is a pull request.</summary>
    public bool IsPullRequest { get; init; }

    /// <summary>When it was opened.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>Who opened it.</summary>
    public DiscussionAuthor? Author { get; init; }

    /// <summary>The author's name, <c>deleted</c> when the account is gone (as Python reports it).</summary>
    [JsonIgnore] public string AuthorName => Author?.Name is { Length: > 0 } name ? name : "deleted";

    /// <summary>The git revision of a pull request's head (<c>refs/pr/N</c>); null for a plain discussion.</summary>
    [JsonIgnore] public string? GitReference => IsPullRequest ? DiscussionsClient.PullRequestRevision(Num) : null;
}

/// <summary>A discussion with its events, and for a pull request its target branch, merge commit and diff.</summary>
public sealed class DiscussionWithDetails : Discussion
{
    /// <summary>Comments, status changes, commits and title changes, oldest first.</summary>
    public IReadOnlyList<DiscussionEvent> Events { get; init; } = [];

    /// <summary>For a pull request: its target branch and, once merged, the merge commit.</summary>
    public PullRequestChanges? Changes { get; init; }

    /// <summary>For a pull request: the files in conflict (a list, or a boolean, as the Hub sends it).</summary>
    public JsonElement? FilesWithConflicts { get; init; }

    /// <summary>For a pull request: the unified diff, when asked for.</summary>
    public string? Diff { get; init; }

    /// <summary>The branch a pull request merges into.</summary>
    [JsonIgnore] public string? TargetBranch => Changes?.Base;

    /// <summary>The merge commit of a merged pull request.</summary>
    [JsonIgnore] public string? MergeCommitId => Changes?.MergeCommitId;
}

/// <summary>The author of a discussion or event.</summary>
public sealed class DiscussionAuthor
{
    /// <summary>The user name.</summary>
    public string Name { get; init; } = "";
}

/// <summary>A pull request's branches.</summary>
public sealed class PullRequestChanges
{
    /// <summary>The target branch.</summary>
    public string Base { get; init; } = "";

    /// <summary>The merge commit, once merged.</summary>
    public string? MergeCommitId { get; init; }
}

/// <summary>
/// One event of a discussion: <c>comment</c>, <c>status-change</c>, <c>commit</c>, <c>title-change</c> or
/// another type kept as it is (its <see cref="Data"/>).
/// </summary>
public sealed class DiscussionEvent
{
    /// <summary>The event id (a comment's id for comments).</summary>
    public string Id { get; init; } = "";

    /// <summary>The event type.</summary>
    public string Type { get; init; } = "";

    /// <summary>When it happened.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>Who caused it.</summary>
    public DiscussionAuthor? Author { get; init; }

    /// <summary>The event's fields as the Hub sent them.</summary>
    public JsonElement Data { get; init; }

    /// <summary>A comment's current text (<c>data.latest.raw</c>).</summary>
    [JsonIgnore] public string? CommentText => Text("latest", "raw");

    /// <summary>The new status of a <c>status-change</c> event.</summary>
    [JsonIgnore] public string? NewStatus => Text("status");

    /// <summary>The commit id of a <c>commit</c> event.</summary>
    [JsonIgnore] public string? CommitId => Text("oid");

    /// <summary>The new title of a <c>title-change</c> event.</summary>
    [JsonIgnore] public string? NewTitle => Text("to");

    private string? Text(params string[] path)
    {
        if (Data.ValueKind != JsonValueKind.Object) return null;
        var current = Data;
        foreach (var name in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current)) return null;
        }
        return current.ValueKind == JsonValueKind.String ? current.GetString() : null;
    }
}
