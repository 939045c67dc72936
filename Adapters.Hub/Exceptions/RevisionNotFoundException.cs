using System.Net;

namespace Adapters.Hub;

/// <summary>The branch, tag or commit does not exist in the repository (<c>X-Error-Code: RevisionNotFound</c>).</summary>
public class RevisionNotFoundException : HubHttpException
{
    /// <summary>Creates the exception from the parts of the error response.</summary>
    public RevisionNotFoundException(string message, HttpStatusCode statusCode, Uri? requestUri, string? requestId, string? serverMessage, string? errorCode)
        : base(message, statusCode, requestUri, requestId, serverMessage, errorCode) { }
}
