namespace Adapters.Hub;

/// <summary>
/// Base of every error this client raises. Thrown as is when the Hub could not be reached at all
/// (connection refused, timeouts after every retry, offline mode without a cached copy is a
/// <see cref="LocalEntryNotFoundException"/> instead).
/// </summary>
public class HubException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public HubException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the failure that caused it.</summary>
    public HubException(string message, Exception? innerException) : base(message, innerException) { }
}
