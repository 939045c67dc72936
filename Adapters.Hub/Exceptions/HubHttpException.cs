using System.Net;

namespace Adapters.Hub;

/// <summary>The Hub (or a CDN it redirected to) answered with an error status.</summary>
public class HubHttpException : HubException
{
    /// <summary>Creates the exception from the parts of the error response.</summary>
    public HubHttpException(string message, HttpStatusCode statusCode, Uri? requestUri, string? requestId, string? serverMessage, string? errorCode)
        : base(message)
    {
        StatusCode = statusCode;
        RequestUri = requestUri;
        RequestId = requestId;
        ServerMessage = serverMessage;
        ErrorCode = errorCode;
    }

    /// <summary>The HTTP status of the response.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The URL that failed.</summary>
    public Uri? RequestUri { get; }

    /// <summary>The server's request id (<c>X-Request-Id</c>, else <c>X-Amzn-Trace-Id</c> or <c>X-Amz-Cf-Id</c>), for support requests.</summary>
    public string? RequestId { get; }

    /// <summary>What the server said: <c>X-Error-Message</c>, else the JSON <c>error</c>, else the text body.</summary>
    public string? ServerMessage { get; }

    /// <summary>The Hub's <c>X-Error-Code</c> header (e.g. <c>RepoNotFound</c>), when present.</summary>
    public string? ErrorCode { get; }
}
