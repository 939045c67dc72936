namespace Adapters.Hub.Upload;

/// <summary>Deletes a file, or a folder with everything under it.</summary>
public sealed class CommitOperationDelete : CommitOperation
{
    internal CommitOperationDelete(string pathInRepo, bool isFolder)
        : base(isFolder ? pathInRepo.TrimEnd('/') + "/" : pathInRepo)
    {
        IsFolder = isFolder;
    }

    /// <summary>Whether a whole folder is deleted (sent as <c>deletedFolder</c> with a trailing slash).</summary>
    public bool IsFolder { get; }
}
