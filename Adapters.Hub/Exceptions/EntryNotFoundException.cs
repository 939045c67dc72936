using System.Net;

namespace Adapters.Hub;

/// <summary>The file does not exist at that revision (<c>X-Error-Code: EntryNotFound</c>).</summary>
public class EntryNotFoundException : HubHttpException
{
    /// <summary>Creates the exception from the parts of the error response.</summary>
    public EntryNotFoundException(string message, HttpStatusCode statusCode, Uri? requestUri, string? requestId, string? serverMessage, string? errorCode)
        : base(message, statusCode, requestUri, requestId, serverMessage, errorCode) { }
}
