using System.Net;
using Polly.Timeout;

namespace Adapters.Hub.Http;

/// <summary>
/// The one rule for what is transient. Requests are retried in exactly one place, the
/// <see cref="HubResilience"/> pipeline of the <see cref="HttpClient"/>; everything above it (downloads,
/// uploads, the cache fallback, migration) asks this class what a failure means and never retries a
/// request the pipeline has already retried.
/// </summary>
public static class TransientFailures
{
    private static readonly HttpRequestOptionsKey<bool> s_notRetried = new("Adapters.Hub.NotRetried");

    /// <summary>Statuses worth another attempt: 408, 429, 500, 502, 503, 504 (Python's <c>http_backoff</c>).</summary>
    public static bool IsTransientStatus(HttpStatusCode status) => status is HttpStatusCode.RequestTimeout
        or HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
        or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>
    /// Transport failures worth another attempt: connection errors, per-attempt timeouts, broken streams,
    /// and cancellations that the caller did not ask for (<paramref name="callerToken"/> is not cancelled).
    /// A missing local file or folder is not transient.
    /// </summary>
    public static bool IsTransientTransport(Exception exception, CancellationToken callerToken = default) => exception switch
    {
        HttpRequestException { StatusCode: { } status } => IsTransientStatus(status),
        HttpRequestException or TimeoutRejectedException => true,
        FileNotFoundException or DirectoryNotFoundException => false,
        IOException => true,
        OperationCanceledException => !callerToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>
    /// Whether a <see cref="HubException"/> (raised after the pipeline gave up) came from a transient cause:
    /// a transient status, or a transport failure. Such a failure may be answered from the cache, but it
    /// must not be retried again on top of the pipeline.
    /// </summary>
    public static bool IsTransient(HubException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            RepositoryNotFoundException or RevisionNotFoundException or EntryNotFoundException => false,
            HubHttpException http => IsTransientStatus(http.StatusCode),
            _ => exception.InnerException is { } inner && IsTransientTransport(inner),
        };
    }

    /// <summary>
    /// Marks a request the pipeline must send once only: a write that could apply twice if resent
    /// (a commit, a new discussion or comment, a merge), as Python sends those without <c>http_backoff</c>.
    /// </summary>
    public static void SendOnce(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Options.Set(s_notRetried, true);
    }

    /// <summary>Whether <see cref="SendOnce"/> marked <paramref name="request"/>.</summary>
    public static bool IsSendOnce(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(s_notRetried, out var once) && once;
}
