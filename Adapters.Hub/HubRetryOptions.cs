namespace Adapters.Hub;

/// <summary>
/// Retries of failed requests: 408, 429, 500, 502, 503, 504 and transport errors are retried with
/// exponential backoff (as Python's <c>http_backoff</c>), honouring <c>Retry-After</c> and the
/// <c>RateLimit</c> header; other 4xx statuses fail at once. This is the only retry layer (see
/// <see cref="Http.TransientFailures"/>): a request is sent at most <see cref="MaxRetries"/> + 1 times, and
/// writes that could apply twice (commits, discussion posts, merges) are sent once.
/// </summary>
public sealed class HubRetryOptions
{
    /// <summary>Retries after the first attempt (Python: 5).</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>The first backoff delay; it doubles on each retry (Python: 1 s).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest backoff delay (Python: 8 s).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>The longest wait a server may ask for with <c>Retry-After</c> or <c>RateLimit</c> before the client gives up.</summary>
    public TimeSpan MaxServerDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Time allowed for one attempt to receive response headers (Python: 10 s).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        if (MaxRetries < 0) throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "HubRetryOptions.MaxRetries cannot be negative.");
        if (BaseDelay < TimeSpan.Zero || MaxDelay < BaseDelay) throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "HubRetryOptions needs 0 <= BaseDelay <= MaxDelay.");
        if (AttemptTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "HubRetryOptions.AttemptTimeout must be positive.");
    }
}
