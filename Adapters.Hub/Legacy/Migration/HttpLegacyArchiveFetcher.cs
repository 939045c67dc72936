namespace Adapters.Hub.Legacy.Migration;

/// <summary>Downloads legacy zips over HTTP(S) with the given <see cref="HttpClient"/>.</summary>
public sealed class HttpLegacyArchiveFetcher : ILegacyArchiveFetcher
{
    private readonly HttpClient _http;

    /// <summary>Uses <paramref name="http"/> (its handler decides retries, proxies and timeouts).</summary>
    public HttpLegacyArchiveFetcher(HttpClient http)
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
    }

    /// <inheritdoc />
    public async Task FetchAsync(string url, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(url);
        ArgumentNullException.ThrowIfNull(destination);
        using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {url} answered {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
        }
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            await body.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
        }
    }
}
