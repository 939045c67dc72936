using System.Net;

namespace Adapters.Hub;

/// <summary>The repository does not exist, is private and the token cannot see it, or no token was sent (<c>X-Error-Code: RepoNotFound</c>, or 401 on a repository URL).</summary>
public class RepositoryNotFoundException : HubHttpException
{
    /// <summary>Creates the exception from the parts of the error response.</summary>
    public RepositoryNotFoundException(string message, HttpStatusCode statusCode, Uri? requestUri, string? requestId, string? serverMessage, string? errorCode)
        : base(message, statusCode, requestUri, requestId, serverMessage, errorCode) { }
}
