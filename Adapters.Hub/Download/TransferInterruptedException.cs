namespace Adapters.Hub.Download;

/// <summary>A body stopped early (reset, truncation, stall): the download resumes with <c>Range</c>.</summary>
internal sealed class TransferInterruptedException(string message, Exception? innerException = null) : Exception(message, innerException);
