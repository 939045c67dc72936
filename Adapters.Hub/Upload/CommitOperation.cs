namespace Adapters.Hub.Upload;

/// <summary>One change in a commit: add or replace a file, delete a file, or delete a folder.</summary>
public abstract class CommitOperation
{
    private protected CommitOperation(string pathInRepo)
    {
        PathInRepo = RepoPath.Normalize(pathInRepo);
    }

    /// <summary>The path inside the repository, with forward slashes.</summary>
    public string PathInRepo { get; }

    /// <summary>Adds (or replaces) <paramref name="pathInRepo"/> with the bytes of a local file.</summary>
    public static CommitOperationAdd AddFile(string pathInRepo, string localPath) => new(pathInRepo, localPath);

    /// <summary>Adds (or replaces) <paramref name="pathInRepo"/> with in-memory bytes.</summary>
    public static CommitOperationAdd AddBytes(string pathInRepo, byte[] content) => new(pathInRepo, content);

    /// <summary>Deletes a file.</summary>
    public static CommitOperationDelete DeleteFile(string pathInRepo) => new(pathInRepo, isFolder: false);

    /// <summary>Deletes a folder and everything under it.</summary>
    public static CommitOperationDelete DeleteFolder(string pathInRepo) => new(pathInRepo, isFolder: true);
}
