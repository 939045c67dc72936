using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Adapters.Hub;

namespace Adapters.Registry.Tests;

/// <summary>
/// Sends requests the way <c>huggingface_hub</c> (httpx) does: its user agent and trace header, a bearer token,
/// JSON bodies with <c>Content-Length</c> (never chunked), NDJSON commits, and no redirect following on API calls.
/// </summary>
internal sealed class PythonWire : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false });
    private readonly string _baseUrl;
    private readonly string? _token;

    public PythonWire(Uri endpoint, string? token = null)
    {
        _baseUrl = endpoint.ToString().TrimEnd('/');
        _token = token;
    }

    public string BaseUrl => _baseUrl;

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery) => SendAsync(HttpMethod.Get, pathAndQuery);

    public Task<HttpResponseMessage> DeleteAsync(string pathAndQuery) => SendAsync(HttpMethod.Delete, pathAndQuery);

    public Task<HttpResponseMessage> PostJsonAsync(string pathAndQuery, object body) =>
        SendAsync(HttpMethod.Post, pathAndQuery, Json(JsonSerializer.SerializeToUtf8Bytes(body)));

    /// <summary>A POST without any body, as <c>merge_pull_request</c> without a comment sends.</summary>
    public Task<HttpResponseMessage> PostEmptyAsync(string pathAndQuery) => SendAsync(HttpMethod.Post, pathAndQuery);

    /// <summary><c>create_commit</c>'s NDJSON body: a header line, then one line per operation.</summary>
    public Task<HttpResponseMessage> CommitAsync(string repo, string revision, string summary, IEnumerable<object> operations, string query = "")
    {
        var lines = new StringBuilder();
        lines.Append(JsonSerializer.Serialize(new { key = "header", value = new { summary, description = "" } })).Append('\n');
        foreach (var operation in operations) lines.Append(JsonSerializer.Serialize(operation)).Append('\n');
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(lines.ToString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        return SendAsync(HttpMethod.Post, $"/api/models/{repo}/commit/{Uri.EscapeDataString(revision)}{query}", content);
    }

    /// <summary>An inline file line of a commit (<c>{"key":"file", ...base64}</c>).</summary>
    public static object File(string path, string text) =>
        new { key = "file", value = new { content = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)), path, encoding = "base64" } };

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string pathAndQuery, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, _baseUrl + pathAndQuery) { Content = content };
        request.Headers.UserAgent.ParseAdd("huggingface_hub/1.28.0");
        request.Headers.UserAgent.ParseAdd("python/3.12.3");
        request.Headers.Add("X-Amzn-Trace-Id", Guid.NewGuid().ToString());
        if (_token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return await _http.SendAsync(request);
    }

    public static async Task<JsonElement> JsonOf(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<JsonElement> ErrorOf(HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static string? ErrorCode(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Error-Code", out var values) ? values.Single() : null;

    private static ByteArrayContent Json(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public void Dispose() => _http.Dispose();
}
