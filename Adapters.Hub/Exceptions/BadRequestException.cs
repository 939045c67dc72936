using System.Net;

namespace Adapters.Hub;

/// <summary>The Hub refused the request as malformed (400), e.g. an invalid tag name or a tag where a branch is needed.</summary>
public sealed class BadRequestException : HubHttpException
{
    /// <summary>Creates the exception from the parts of the error response.</summary>
    public BadRequestException(string message, HttpStatusCode statusCode, Uri? requestUri, string? requestId, string? serverMessage, string? errorCode)
        : base(message, statusCode, requestUri, requestId, serverMessage, errorCode) { }
}
