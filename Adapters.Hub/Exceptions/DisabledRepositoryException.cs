using System.Net;

namespace Adapters.Hub;

/// <summary>The repository was disabled by the Hub (<c>X-Error-Message: Access to this resource is disabled.</c>).</summary>
public sealed class DisabledRepositoryException : HubHttpException
{
    /// <summary>Creates the exception from the parts of the error response.</summary>
    public DisabledRepositoryException(string message, HttpStatusCode statusCode, Uri? requestUri, string? requestId, string? serverMessage, string? errorCode)
        : base(message, statusCode, requestUri, requestId, serverMessage, errorCode) { }
}
