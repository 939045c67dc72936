using Adapters.Hub.Download;

namespace Adapters.Hub.Upload;

/// <summary>Optional settings of a commit.</summary>
public sealed record CommitOptions
{
    /// <summary>The commit's description (the body under the summary line).</summary>
    public string Description { get; init; } = "";

    /// <summary>The branch to commit to; null means <c>main</c>.</summary>
    public string? Revision { get; init; }

    /// <summary>
    /// The commit the caller expects at the branch head. When the branch has moved the Hub answers 412
    /// and <see cref="HubConflictException"/> is thrown, so concurrent writers cannot overwrite each other.
    /// </summary>
    public string? ParentCommit { get; init; }

    /// <summary>Open a pull request with the change instead of committing to the branch.</summary>
    public bool CreatePullRequest { get; init; }

    /// <summary>The repository type.</summary>
    public RepoType RepoType { get; init; } = RepoType.Model;

    /// <summary>How many LFS files, and how many parts of one multipart file, upload at once.</summary>
    public int MaxConcurrency { get; init; } = 5;

    /// <summary>Reports bytes and files uploaded.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }
}
