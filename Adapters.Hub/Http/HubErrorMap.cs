using System.Net;
using System.Text;
using System.Text.Json;

namespace Adapters.Hub.Http;

/// <summary>
/// The one table that turns an error response into a typed exception, following Python's
/// <c>hf_raise_for_status</c> row by row: <c>X-Error-Code</c> <c>RevisionNotFound</c>, <c>EntryNotFound</c>,
/// <c>GatedRepo</c>; a disabled repository (<c>X-Error-Message</c>); <c>RepoNotFound</c> or a 401 on an https
/// repository URL (unless <c>X-Error-Message</c> says the token itself was refused); then 400, 403, 409/412,
/// 416 and 429 by status.
/// </summary>
public static class HubErrorMap
{
    private const int MaxBodyChars = 2000;
    private const string DisabledMessage = "Access to this resource is disabled.";

    /// <summary>Throws the mapped exception unless the response is a success (2xx) or a redirect (3xx).</summary>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        if ((int)response.StatusCode < 400) return;
        throw await ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Builds the typed exception for an error response (it reads, but does not dispose, the body).</summary>
    public static async Task<HubHttpException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        var uri = response.RequestMessage?.RequestUri;
        var errorCode = Header(response, "X-Error-Code");
        var serverMessage = Header(response, "X-Error-Message") ?? await BodyMessageAsync(response, cancellationToken).ConfigureAwait(false);
        var requestId = Header(response, "X-Request-Id") ?? Header(response, "X-Amzn-Trace-Id") ?? Header(response, "X-Amz-Cf-Id");
        var status = response.StatusCode;

        string Message(string summary, string? hint = null)
        {
            var text = new StringBuilder($"{(int)status} {summary} for {SecretRedactor.Redact(uri)}");
            if (requestId is not null) text.Append($" (request id {requestId})");
            if (!string.IsNullOrWhiteSpace(serverMessage)) text.Append($": {SecretRedactor.Redact(serverMessage)}");
            if (hint is not null) text.Append(". ").Append(hint);
            return text.ToString();
        }

        const string AccessHint = "Check the repository id and type; for a private or gated repository, pass a token that can read it";
        return errorCode switch
        {
            "RevisionNotFound" => new RevisionNotFoundException(Message("Revision Not Found", "Check the branch, tag or commit"), status, uri, requestId, serverMessage, errorCode),
            "EntryNotFound" => new EntryNotFoundException(Message("Entry Not Found"), status, uri, requestId, serverMessage, errorCode),
            "GatedRepo" => new GatedRepositoryException(Message("Gated Repository", "Request access on the repository's page and use a token of an account that has it"), status, uri, requestId, serverMessage, errorCode),
            _ when Header(response, "X-Error-Message") == DisabledMessage
                => new DisabledRepositoryException(Message("Disabled Repository", "The repository was disabled on the Hub; contact its owner"), status, uri, requestId, serverMessage, errorCode),
            "RepoNotFound" => new RepositoryNotFoundException(Message("Repository Not Found", AccessHint), status, uri, requestId, serverMessage, errorCode),
            _ when status == HttpStatusCode.Unauthorized && IsRepositoryUrl(uri) && Header(response, "X-Error-Message") != "Invalid credentials in Authorization header"
                => new RepositoryNotFoundException(Message("Repository Not Found", AccessHint), status, uri, requestId, serverMessage, errorCode),
            _ when status == HttpStatusCode.BadRequest
                => new BadRequestException(Message("Bad Request"), status, uri, requestId, serverMessage, errorCode),
            _ when status == HttpStatusCode.Forbidden
                => new HubHttpException(Message("Forbidden", "The token lacks the permission this needs (a write token, or membership of the organization)"), status, uri, requestId, serverMessage, errorCode),
            _ when status == HttpStatusCode.RequestedRangeNotSatisfiable
                => new HubHttpException(Message("Range Not Satisfiable", $"Requested range {response.RequestMessage?.Headers.Range?.ToString() ?? "(none)"}, content range {response.Content.Headers.ContentRange?.ToString() ?? "(none)"}"), status, uri, requestId, serverMessage, errorCode),
            _ when status is HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed
                => new HubConflictException(Message(status == HttpStatusCode.Conflict ? "Conflict" : "Precondition Failed",
                    status == HttpStatusCode.Conflict ? "The repository, branch or tag already exists" : "The branch moved since the parent commit; fetch the new head and retry"),
                    status, uri, requestId, serverMessage, errorCode),
            _ when status == HttpStatusCode.TooManyRequests
                => new HubHttpException(Message("Too Many Requests", RateLimitHint(response)), status, uri, requestId, serverMessage, errorCode),
            _ => new HubHttpException(Message(ReasonOf(response)), status, uri, requestId, serverMessage, errorCode),
        };
    }

    /// <summary>
    /// The Hub answers 401 for missing, private and unauthenticated repositories alike, so a bare 401 on a
    /// repository URL is folded into "not found". Python only does this for <c>https://</c> URLs of
    /// <c>/api/{models|datasets|spaces}/...</c> or <c>.../resolve/...</c> (its <c>REPO_API_REGEX</c>): over plain
    /// http (a local registry or stub) a 401 without <c>X-Error-Code</c> stays a plain HTTP error, and so it does here.
    /// </summary>
    private static bool IsRepositoryUrl(Uri? uri)
    {
        if (uri is null || !uri.IsAbsoluteUri || uri.Scheme != Uri.UriSchemeHttps) return false;
        var path = uri.AbsolutePath;
        return path.StartsWith("/api/models/", StringComparison.Ordinal)
            || path.StartsWith("/api/datasets/", StringComparison.Ordinal)
            || path.StartsWith("/api/spaces/", StringComparison.Ordinal)
            || (path.IndexOf("/resolve/", StringComparison.Ordinal) is > 0 and var at && at + "/resolve/".Length < path.Length);
    }

    /// <summary>
    /// Python's 429 message: the exhausted quota from the <c>RateLimit</c> header (<c>"api";r=0;t=55</c>) and,
    /// when present, <c>RateLimit-Policy</c> (<c>"fixed window";"api";q=500;w=300</c>).
    /// </summary>
    private static string RateLimitHint(HttpResponseMessage response)
    {
        var limit = Header(response, "RateLimit");
        if (limit is null || Field(limit, "r") != "0" || Field(limit, "t") is not { } reset) return "The Hub rate limit was hit; wait and retry";
        var kind = limit.Split(';')[0].Trim().Trim('"');
        var hint = $"You have reached your '{kind}' rate limit. Retry after {reset} seconds";
        var policy = Header(response, "RateLimit-Policy");
        if (policy is not null && Field(policy, "q") is { } quota && Field(policy, "w") is { } window) hint += $" (0/{quota} requests remaining in current {window}s window)";
        return hint;
    }

    private static string? Field(string header, string name) => header.Split(';', StringSplitOptions.TrimEntries)
        .Where(p => p.StartsWith(name + "=", StringComparison.Ordinal)).Select(p => p[(name.Length + 1)..]).FirstOrDefault();

    private static string ReasonOf(HttpResponseMessage response) =>
        string.IsNullOrEmpty(response.ReasonPhrase) ? ((int)response.StatusCode < 500 ? "Client Error" : "Server Error") : response.ReasonPhrase;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() is { Length: > 0 } v ? v : null : null;

    private static async Task<string?> BodyMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return null;
        }
        body = body.Trim();
        if (body.Length == 0) return null;
        if (body[0] is '{' or '[')
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                if (JsonMessage(document.RootElement) is { } message) return message;
            }
            catch (JsonException)
            {
                // Not JSON after all: fall through to the text form.
            }
        }
        if (body.StartsWith('<')) return null;
        return body.Length > MaxBodyChars ? body[..MaxBodyChars] + "..." : body;
    }

    private static string? JsonMessage(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return null;
        var parts = new List<string>();
        if (root.TryGetProperty("error", out var error))
        {
            if (error.ValueKind == JsonValueKind.String) parts.Add(error.GetString()!);
            else if (error.ValueKind == JsonValueKind.Array) parts.AddRange(error.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
        }
        if (root.TryGetProperty("error_description", out var description) && description.ValueKind == JsonValueKind.String) parts.Add(description.GetString()!);
        if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in errors.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String) parts.Add(m.GetString()!);
            }
        }
        return parts.Count == 0 ? null : string.Join("; ", parts.Distinct());
    }
}
