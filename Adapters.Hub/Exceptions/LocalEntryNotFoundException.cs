namespace Adapters.Hub;

/// <summary>
/// The file or snapshot is not in the local cache and the Hub could not be asked: offline mode is on,
/// or the Hub was unreachable (the cause is the inner exception).
/// </summary>
public class LocalEntryNotFoundException : HubException
{
    /// <summary>Creates the exception with a message and the failure that made the cache the only source.</summary>
    public LocalEntryNotFoundException(string message, Exception? innerException = null) : base(message, innerException) { }
}
