using System.Globalization;
using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Adapters.Hub.Http;

/// <summary>
/// The retry and timeout pipeline every Hub request goes through: the same policy whether the
/// <see cref="HttpClient"/> comes from <c>IHttpClientFactory</c> or from <see cref="HubClient"/> itself.
/// </summary>
public static partial class HubResilience
{
    /// <summary>Adds the retry (outer) and per-attempt timeout (inner) strategies to <paramref name="builder"/>.</summary>
    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, HubRetryOptions options) =>
        Configure(builder, options, logger: null);

    /// <summary>
    /// Adds the retry (outer) and per-attempt timeout (inner) strategies to <paramref name="builder"/>;
    /// each retry is logged to <paramref name="logger"/> (method, redacted URL, attempt, delay, cause).
    /// </summary>
    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, HubRetryOptions options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Context.GetRequestMessage(), args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(ServerRequestedDelay(args.Outcome.Result, options.MaxServerDelay)),
                OnRetry = args =>
                {
                    if (logger is not null)
                    {
                        var request = args.Outcome.Result?.RequestMessage;
                        var cause = args.Outcome.Exception is { } ex ? SecretRedactor.Redact(ex.Message) : $"status {(int?)args.Outcome.Result?.StatusCode}";
                        LogRetry(logger, request?.Method.Method ?? "request", SecretRedactor.Redact(request?.RequestUri), args.AttemptNumber + 1, options.MaxRetries, args.RetryDelay.TotalSeconds, cause);
                    }
                    return ValueTask.CompletedTask;
                },
            });
        }
        builder.AddTimeout(options.AttemptTimeout);
    }

    /// <summary>A delegating handler running the pipeline, for clients built without dependency injection.</summary>
    public static DelegatingHandler CreateHandler(HubRetryOptions options, HttpMessageHandler innerHandler) =>
        CreateHandler(options, innerHandler, logger: null);

    /// <summary>A delegating handler running the pipeline and logging its retries to <paramref name="logger"/>.</summary>
    public static DelegatingHandler CreateHandler(HubRetryOptions options, HttpMessageHandler innerHandler, ILogger? logger)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        Configure(builder, options, logger);
        return new ResilienceHandler(builder.Build()) { InnerHandler = innerHandler };
    }

    /// <summary>
    /// The handler that talks to the network: no automatic redirects (the client follows them so the
    /// token stays on the Hub's origin), no decompression (sizes and <c>Range</c> offsets are raw bytes).
    /// </summary>
    public static HttpMessageHandler CreatePrimaryHandler() => new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        MaxConnectionsPerServer = 64,
    };

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Retry {Attempt}/{MaxRetries} of {Method} {Url} in {DelaySeconds:0.###} s after {Cause}")]
    private static partial void LogRetry(ILogger logger, string method, string url, int attempt, int maxRetries, double delaySeconds, string cause);

    /// <summary>The pipeline's retry decision: <see cref="TransientFailures"/>'s rule, except for requests marked send-once.</summary>
    private static bool ShouldRetry(HttpRequestMessage? request, Outcome<HttpResponseMessage> outcome)
    {
        if (TransientFailures.IsSendOnce(request ?? outcome.Result?.RequestMessage)) return false;
        return outcome switch
        {
            // A cancellation inside the pipeline is the caller's (attempt timeouts surface as TimeoutRejectedException).
            { Exception: OperationCanceledException } => false,
            { Exception: { } ex } => TransientFailures.IsTransientTransport(ex),
            { Result: { } response } => TransientFailures.IsTransientStatus(response.StatusCode),
            _ => false,
        };
    }

    /// <summary>
    /// The wait a 429/503 asks for: the IETF <c>RateLimit</c> header's <c>t=</c> (seconds until the
    /// window resets), else <c>Retry-After</c> as seconds or a date; null means exponential backoff.
    /// </summary>
    internal static TimeSpan? ServerRequestedDelay(HttpResponseMessage? response, TimeSpan cap)
    {
        if (response is null) return null;
        TimeSpan? delay = null;
        if (response.Headers.TryGetValues("RateLimit", out var rateLimit))
        {
            foreach (var part in string.Join(';', rateLimit).Split(';', StringSplitOptions.TrimEntries))
            {
                if (part.StartsWith("t=", StringComparison.Ordinal) && int.TryParse(part[2..], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                {
                    delay = TimeSpan.FromSeconds(seconds);
                }
            }
        }
        if (delay is null && response.Headers.RetryAfter is { } retryAfter)
        {
            delay = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        }
        if (delay is null) return null;
        if (delay < TimeSpan.Zero) return TimeSpan.Zero;
        return delay > cap ? cap : delay;
    }
}
