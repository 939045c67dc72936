using System.Net;
using System.Net.Http.Headers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Adapters.Hub.Http;

/// <summary>
/// The transport every resource client shares: builds requests with the user agent and (only for the
/// Hub's own origin) the token, follows redirects under a <see cref="RedirectPolicy"/>, enforces offline
/// mode, and maps error responses through <see cref="HubErrorMap"/>. Retries and per-attempt timeouts
/// live in the <see cref="HttpClient"/>'s handler (<see cref="HubResilience"/>).
/// </summary>
public sealed partial class HubConnection : IDisposable
{
    /// <summary>The log category of every Hub client message.</summary>
    public const string LogCategory = "Adapters.Hub";

    private const int MaxRedirects = 10;
    private readonly HttpClient _httpClient;
    private readonly bool _ownsHttpClient;

    /// <summary>JSON settings of the Hub API (camelCase, case-insensitive reads).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Creates a connection over <paramref name="httpClient"/>, which must not follow redirects itself and
    /// must not have sent a request yet (its overall timeout is switched off).
    /// </summary>
    public HubConnection(HttpClient httpClient, HubClientOptions options, bool ownsHttpClient = false)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        _httpClient = httpClient;
        // Time limits are per attempt (HubResilience) and per read (ReadTimeout); a whole-request limit
        // would cut long downloads. Setting it is only allowed before the client's first request.
        if (_httpClient.Timeout != Timeout.InfiniteTimeSpan) _httpClient.Timeout = Timeout.InfiniteTimeSpan;
        _ownsHttpClient = ownsHttpClient;
        Options = options.Validated();
        Logger = options.LoggerFactory?.CreateLogger(LogCategory) ?? NullLogger.Instance;
        Endpoint = new Uri(options.Endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
    }

    /// <summary>The options in use.</summary>
    public HubClientOptions Options { get; }

    /// <summary>The logger of this connection (<see cref="NullLogger"/> when <see cref="HubClientOptions.LoggerFactory"/> is null).</summary>
    public ILogger Logger { get; }

    /// <summary>The Hub base URL, always ending in <c>/</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>A URL under the endpoint; <paramref name="relative"/> is already escaped and has no leading slash.</summary>
    public Uri BuildUri(string relative) => new(Endpoint, relative);

    /// <summary>Whether <paramref name="uri"/> has the Hub's scheme, host and port (the only origin that gets the token).</summary>
    public bool IsHubOrigin(Uri uri) =>
        Uri.Compare(uri, Endpoint, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>A request with the user agent, a trace id and, for the Hub's origin only, the bearer token.</summary>
    public HttpRequestMessage CreateRequest(HttpMethod method, Uri uri)
    {
        var request = new HttpRequestMessage(method, uri);
        request.Headers.TryAddWithoutValidation("User-Agent", Options.UserAgent);
        request.Headers.TryAddWithoutValidation("X-Amzn-Trace-Id", Guid.NewGuid().ToString());
        if (Options.Token is { Length: > 0 } token && IsHubOrigin(uri))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return request;
    }

    /// <summary>
    /// Sends a request, following redirects under <paramref name="redirects"/>; each hop is a fresh request
    /// from <see cref="CreateRequest"/>, so the token is never sent to another host. The response is
    /// returned whatever its status; transport failures after every retry become <see cref="HubException"/>.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(
        HttpMethod method,
        Uri uri,
        RedirectPolicy redirects,
        Action<HttpRequestMessage>? configure = null,
        HttpCompletionOption completion = HttpCompletionOption.ResponseHeadersRead,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(uri);
        for (var hop = 0; ; hop++)
        {
            using var request = CreateRequest(method, uri);
            configure?.Invoke(request);
            var response = await SendRawAsync(request, completion, cancellationToken).ConfigureAwait(false);
            if (redirects == RedirectPolicy.None || !IsRedirect(response.StatusCode) || response.Headers.Location is not { } location)
            {
                return response;
            }
            // On Unix a bare "/path" can parse as an absolute file:// URI; it is a relative redirect.
            var isAbsolute = location.IsAbsoluteUri && !location.IsFile;
            if (redirects == RedirectPolicy.RelativeOnly && isAbsolute)
            {
                return response;
            }
            var target = isAbsolute ? location : new Uri(uri, location.IsAbsoluteUri ? location.AbsolutePath : location.OriginalString);
            response.Dispose();
            if (hop >= MaxRedirects)
            {
                throw new HubException($"Too many redirects ({MaxRedirects}) starting from {method} {uri}.");
            }
            uri = target;
        }
    }

    /// <summary>Sends one prepared request (no redirect handling) under the offline rule and the error wrapping.</summary>
    public async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, HttpCompletionOption completion = HttpCompletionOption.ResponseHeadersRead, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Options.Offline)
        {
            throw new OfflineModeException($"Offline mode is on (HF_HUB_OFFLINE); refusing to send {request.Method} {request.RequestUri}.");
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await _httpClient.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
            LogResponse(Logger, request.Method, SecretRedactor.Redact(request.RequestUri), (int)response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return response;
        }
        catch (Exception ex) when (TransientFailures.IsTransientTransport(ex, cancellationToken) || ex is HttpRequestException)
        {
            var url = SecretRedactor.Redact(request.RequestUri);
            var reason = SecretRedactor.Redact(ex.Message);
            LogFailure(Logger, request.Method, url, Stopwatch.GetElapsedTime(started).TotalMilliseconds, reason);
            throw new HubException($"Could not reach {url} ({request.Method}) after {Options.Retry.MaxRetries + 1} attempt(s): {reason}", ex);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "{Method} {Url} -> {Status} in {ElapsedMs:0} ms")]
    private static partial void LogResponse(ILogger logger, HttpMethod method, string url, int status, double elapsedMs);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Method} {Url} failed after {ElapsedMs:0} ms: {Reason}")]
    private static partial void LogFailure(ILogger logger, HttpMethod method, string url, double elapsedMs, string reason);

    /// <summary>GETs JSON from the Hub (following relative redirects, as for a renamed repository) and deserializes it.</summary>
    public async Task<T> GetJsonAsync<T>(Uri uri, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, uri, RedirectPolicy.RelativeOnly, AcceptJson, cancellationToken: cancellationToken).ConfigureAwait(false);
        return await ReadJsonAsync<T>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POSTs <paramref name="body"/> as JSON and deserializes the JSON answer.</summary>
    public async Task<TResponse> PostJsonAsync<TRequest, TResponse>(Uri uri, TRequest body, Action<HttpRequestMessage>? configure = null, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Post, uri, RedirectPolicy.None, request =>
        {
            AcceptJson(request);
            request.Content = JsonBody(body);
            configure?.Invoke(request);
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return await ReadJsonAsync<TResponse>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A JSON request body serialized up front, so that it goes out with <c>Content-Length</c> as Python's
    /// clients send it: some proxies and Hub stubs refuse chunked request bodies.
    /// </summary>
    internal static HttpContent JsonBody<T>(T body, string mediaType = "application/json")
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, JsonOptions));
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType) { CharSet = "utf-8" };
        return content;
    }

    /// <summary>
    /// Sends <paramref name="body"/> (if any) as JSON with <c>Content-Length</c>, checks the status through
    /// <see cref="HubErrorMap"/> and returns the answer's JSON (or null for an empty body). Writes that must
    /// not apply twice pass <paramref name="sendOnce"/>, so the retry pipeline never resends them.
    /// </summary>
    internal async Task<JsonDocument?> SendJsonAsync(HttpMethod method, Uri uri, object? body, bool sendOnce, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, uri, RedirectPolicy.None, request =>
        {
            AcceptJson(request);
            if (body is not null) request.Content = JsonBody(body);
            if (sendOnce) TransientFailures.SendOnce(request);
        }, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (bytes.AsSpan().Trim(" \t\r\n"u8).IsEmpty) return null;
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException ex)
        {
            throw new HubException($"{SecretRedactor.Redact(uri)} answered a body that is not JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Streams every item of a JSON-array listing, following <c>Link: rel="next"</c> pages.</summary>
    public async IAsyncEnumerable<T> GetPagedAsync<T>(Uri firstPage, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (Uri? page = firstPage; page is not null;)
        {
            List<T> items;
            using (var response = await SendAsync(HttpMethod.Get, page, RedirectPolicy.RelativeOnly, AcceptJson, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                items = await ReadJsonAsync<List<T>>(response, cancellationToken).ConfigureAwait(false);
                page = LinkHeader.Next(response);
            }
            foreach (var item in items) yield return item;
        }
    }

    /// <summary>Checks the status, then deserializes the body; a malformed body names the URL.</summary>
    public static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        if (IsRedirect(response.StatusCode))
        {
            throw new HubException($"{SecretRedactor.Redact(response.RequestMessage?.RequestUri)} redirected to another host ({response.Headers.Location}); expected a JSON answer.");
        }
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync<T>(stream, JsonOptions, cancellationToken).ConfigureAwait(false)
                ?? throw new HubException($"{SecretRedactor.Redact(response.RequestMessage?.RequestUri)} answered JSON null; expected {typeof(T).Name}.");
        }
        catch (JsonException ex)
        {
            throw new HubException($"{SecretRedactor.Redact(response.RequestMessage?.RequestUri)} answered JSON that is not a {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    /// <summary>True for 301, 302, 303, 307 and 308.</summary>
    public static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static void AcceptJson(HttpRequestMessage request) =>
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttpClient) _httpClient.Dispose();
    }
}
