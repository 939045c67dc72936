namespace Adapters.Hub.Download;

/// <summary>Progress of a file or snapshot download.</summary>
/// <param name="BytesTransferred">Bytes received so far (bytes resumed from an earlier run count as received).</param>
/// <param name="TotalBytes">Bytes expected in all, when known.</param>
/// <param name="FilesCompleted">Files finished (downloaded or already cached).</param>
/// <param name="TotalFiles">Files in the request.</param>
public readonly record struct TransferProgress(long BytesTransferred, long? TotalBytes, int FilesCompleted, int TotalFiles);
