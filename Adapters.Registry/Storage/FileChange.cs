namespace Adapters.Registry.Storage;

/// <summary>One line of a commit request, already stored where it needs content (blobs exist before the commit).</summary>
internal abstract record FileChange(string Path)
{
    public sealed record Put(string Path, FileRecord File) : FileChange(Path);

    public sealed record DeleteFile(string Path) : FileChange(Path);

    public sealed record DeleteFolder(string Path) : FileChange(Path);
}

/// <summary>A commit request: the header line and the changes in order.</summary>
internal sealed record CommitRequest(string Summary, string Description, string? ParentCommit, IReadOnlyList<FileChange> Changes)
{
    /// <summary>The account making the commit (see <see cref="CommitRecord.Author"/>).</summary>
    public string Author { get; init; } = "local";
}

/// <summary>The outcome of a commit: its id and, for a pull request, its number.</summary>
internal sealed record CommitOutcome(string CommitId, int? PullRequestNumber);

/// <summary>A revision resolved to a commit.</summary>
internal sealed record ResolvedRevision(RepoMetadata Repo, string CommitId, CommitRecord Commit);
