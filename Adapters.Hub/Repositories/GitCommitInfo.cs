namespace Adapters.Hub.Repositories;

/// <summary>One commit of <see cref="RepositoriesClient.ListCommitsAsync"/> (Python's <c>GitCommitInfo</c>).</summary>
public sealed class GitCommitInfo
{
    /// <summary>The commit id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The first line of the message.</summary>
    public string Title { get; init; } = "";

    /// <summary>The rest of the message.</summary>
    public string Message { get; init; } = "";

    /// <summary>When it was made.</summary>
    public DateTimeOffset? Date { get; init; }

    /// <summary>Its authors.</summary>
    public IReadOnlyList<GitCommitAuthor> Authors { get; init; } = [];
}

/// <summary>An author of a <see cref="GitCommitInfo"/>.</summary>
public sealed class GitCommitAuthor
{
    /// <summary>The Hub user name.</summary>
    public string User { get; init; } = "";

    /// <summary>The avatar URL, when the Hub gives one.</summary>
    public string? Avatar { get; init; }
}
