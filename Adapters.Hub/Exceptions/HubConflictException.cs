using System.Net;

namespace Adapters.Hub;

/// <summary>
/// The Hub refused a write because the target changed or already exists: a commit whose
/// <c>parentCommit</c> is no longer the branch head (412), or a repository, branch or tag that exists (409).
/// </summary>
public sealed class HubConflictException : HubHttpException
{
    /// <summary>Creates the exception from the parts of the error response.</summary>
    public HubConflictException(string message, HttpStatusCode statusCode, Uri? requestUri, string? requestId, string? serverMessage, string? errorCode)
        : base(message, statusCode, requestUri, requestId, serverMessage, errorCode)
    {
    }
}
