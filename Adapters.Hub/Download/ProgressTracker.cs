namespace Adapters.Hub.Download;

/// <summary>Thread-safe totals shared by parallel file downloads, reported as <see cref="TransferProgress"/>.</summary>
internal sealed class ProgressTracker(IProgress<TransferProgress>? sink, int totalFiles, long? totalBytes)
{
    private long _bytes;
    private int _files;
    private long _totalBytes = totalBytes ?? -1;

    /// <summary>A single-file download learns its total from the file's size; a file set's total stays what it was given.</summary>
    public void SetTotalBytesIfUnknown(long bytes)
    {
        if (totalFiles == 1) Interlocked.CompareExchange(ref _totalBytes, bytes, -1);
    }

    public void AddBytes(long delta)
    {
        var bytes = Interlocked.Add(ref _bytes, delta);
        Report(bytes, Volatile.Read(ref _files));
    }

    public void FileCompleted(long? bytesNotTransferred = null)
    {
        var bytes = bytesNotTransferred is { } skipped ? Interlocked.Add(ref _bytes, skipped) : Volatile.Read(ref _bytes);
        Report(bytes, Interlocked.Increment(ref _files));
    }

    private void Report(long bytes, int files)
    {
        var total = Volatile.Read(ref _totalBytes);
        sink?.Report(new TransferProgress(bytes, total < 0 ? null : total, files, totalFiles));
    }
}
