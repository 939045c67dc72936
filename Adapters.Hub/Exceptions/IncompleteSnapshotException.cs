namespace Adapters.Hub;

/// <summary>
/// Offline (or with the Hub unreachable), the cached listing of the commit (<c>trees/&lt;commit&gt;.json</c>)
/// names files that the cached snapshot lacks, as Python's <c>IncompleteSnapshotError</c>.
/// </summary>
public sealed class IncompleteSnapshotException : LocalEntryNotFoundException
{
    /// <summary>Creates the exception naming the missing files.</summary>
    public IncompleteSnapshotException(string message, IReadOnlyList<string> missingFiles, Exception? innerException = null)
        : base(message, innerException)
    {
        MissingFiles = missingFiles;
    }

    /// <summary>Files of the commit's listing that are not in the snapshot folder.</summary>
    public IReadOnlyList<string> MissingFiles { get; }
}
