using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Adapters.Registry.Endpoints;

/// <summary>Reading requests and writing JSON answers the way the Hub shapes them.</summary>
internal static class HttpIo
{
    public static readonly JsonSerializerOptions Json = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The path segments exactly as sent, each percent-decoded on its own, so an encoded '/' (<c>refs%2Fpr%2F1</c>) stays inside its segment.</summary>
    public static string[] RawSegments(HttpContext context) =>
        RawPath(context).Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();

    /// <summary>The request path as the client encoded it, without the query.</summary>
    public static string RawPath(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var query = target.IndexOf('?', StringComparison.Ordinal);
        return query >= 0 ? target[..query] : target;
    }

    /// <summary>The scheme and host the client used, so URLs we hand out work from where it stands.</summary>
    public static string BaseUrl(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}";

    /// <summary>Nesting accepted in JSON bodies; the Hub's bodies are a few levels deep.</summary>
    private static readonly JsonDocumentOptions s_bodyOptions = new() { MaxDepth = 32 };

    /// <summary>
    /// Caps this request's body at <paramref name="maxBytes"/>. The server enforces the cap while the body
    /// streams in (a declared length over it is refused before any byte is read), so no route reads more
    /// than it can hold. Call before the first read; the default cap is <see cref="RegistryServerOptions.MaxJsonBodyBytes"/>.
    /// </summary>
    public static void LimitBody(HttpContext context, long maxBytes)
    {
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = maxBytes;
    }

    /// <summary>Whether the request announces a body (a length above zero or chunked framing).</summary>
    public static bool HasBody(HttpContext context) =>
        context.Request.ContentLength is > 0 || (context.Request.ContentLength is null && context.Request.Headers.TransferEncoding.Count > 0);

    /// <summary>Reads a JSON body within the route's cap (see <see cref="LimitBody"/>) and a small nesting depth.</summary>
    public static async Task<JsonElement> ReadJsonAsync(HttpContext context, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, s_bodyOptions, cancellationToken).ConfigureAwait(false);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw RegistryException.BadRequest($"The request body of {context.Request.Method} {context.Request.Path} is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>A JSON object body, or an empty object when the request has none (Python posts some actions without a body).</summary>
    public static async Task<JsonElement> ReadOptionalJsonAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (HasBody(context)) return await ReadJsonAsync(context, cancellationToken).ConfigureAwait(false);
        using var empty = JsonDocument.Parse("{}");
        return empty.RootElement.Clone();
    }

    public static Task WriteJsonAsync(HttpContext context, object value, int status = 200, string contentType = "application/json; charset=utf-8")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, Json);
        context.Response.ContentLength = bytes.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    public static Task WriteTextAsync(HttpContext context, string text, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    /// <summary>
    /// The Hub's error answer: <c>X-Error-Code</c> and <c>X-Error-Message</c> headers plus <c>{"error": ...}</c>.
    /// When the request came with a body that was perhaps not read (refused before reading), the connection
    /// is closed after the answer instead of draining what the client still sends: a refused 400 MiB body costs nothing.
    /// </summary>
    public static Task WriteErrorAsync(HttpContext context, RegistryException error)
    {
        var response = context.Response;
        response.Clear();
        response.StatusCode = error.StatusCode;
        if (HasBody(context)) response.Headers.Connection = "close";
        if (error.ErrorCode is not null) response.Headers["X-Error-Code"] = error.ErrorCode;
        response.Headers["X-Error-Message"] = AsciiHeader(error.Message);
        foreach (var (name, value) in error.Headers) response.Headers[name] = value;
        if (error.StatusCode == 401) response.Headers.WWWAuthenticate = "Bearer realm=\"adapters-hub serve\"";
        var body = new Dictionary<string, object?> { ["error"] = error.Message };
        foreach (var (name, value) in error.BodyFields) body[name] = value;
        return WriteJsonAsync(context, body, error.StatusCode);
    }

    private static string AsciiHeader(string text) =>
        new(text.ReplaceLineEndings(" ").Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());

    /// <summary>Dates as the Hub writes them: UTC with milliseconds and a 'Z' (JavaScript's Date parses nothing finer).</summary>
    public static string Date(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static string? Query(HttpContext context, string name) =>
        context.Request.Query.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    public static bool QueryFlag(HttpContext context, string name) =>
        Query(context, name) is { } v && (v == "1" || v.Equals("true", StringComparison.OrdinalIgnoreCase));

    public static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
