using System.Net;

namespace Adapters.Hub;

/// <summary>The repository is gated and the token has not been granted access (<c>X-Error-Code: GatedRepo</c>).</summary>
public class GatedRepositoryException : RepositoryNotFoundException
{
    /// <summary>Creates the exception from the parts of the error response.</summary>
    public GatedRepositoryException(string message, HttpStatusCode statusCode, Uri? requestUri, string? requestId, string? serverMessage, string? errorCode)
        : base(message, statusCode, requestUri, requestId, serverMessage, errorCode) { }
}
