using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Adapters.Hub.Http;

namespace Adapters.Hub.Xet.Cas;

/// <summary>
/// Gets CAS tokens from the Hub's token endpoints (with the Hub token, as for any Hub request) and keeps each until
/// shortly before it expires, so the many requests of one transfer share one token.
/// </summary>
internal sealed class XetTokenSource(HubConnection connection, TimeProvider? time = null)
{
    private readonly ConcurrentDictionary<Uri, Lazy<Task<XetToken>>> _tokens = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>A fresh token from <paramref name="tokenUrl"/>, fetched once per expiry.</summary>
    public async Task<XetToken> GetAsync(Uri tokenUrl, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lazy = _tokens.GetOrAdd(tokenUrl, url => new Lazy<Task<XetToken>>(() => FetchAsync(url, CancellationToken.None)));
            XetToken token;
            try
            {
                token = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch when (!cancellationToken.IsCancellationRequested)
            {
                _tokens.TryRemove(KeyValuePair.Create(tokenUrl, lazy));
                throw;
            }
            if (token.IsFreshAt(_time.GetUtcNow())) return token;
            _tokens.TryRemove(KeyValuePair.Create(tokenUrl, lazy));
        }
    }

    /// <summary>Uses <paramref name="token"/> (handed out with an LFS batch answer) for <paramref name="tokenUrl"/> until it expires.</summary>
    public void Seed(Uri tokenUrl, XetToken token)
    {
        if (token.IsFreshAt(_time.GetUtcNow())) _tokens[tokenUrl] = new Lazy<Task<XetToken>>(Task.FromResult(token));
    }

    /// <summary>Forgets the token from <paramref name="tokenUrl"/> (the CAS refused it), so the next call fetches anew.</summary>
    public void Invalidate(Uri tokenUrl) => _tokens.TryRemove(tokenUrl, out _);

    private async Task<XetToken> FetchAsync(Uri tokenUrl, CancellationToken cancellationToken)
    {
        using var response = await connection.SendAsync(HttpMethod.Get, tokenUrl, RedirectPolicy.RelativeOnly,
            request => request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json")),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var url = SecretRedactor.Redact(tokenUrl);
        string? accessToken = null, casUrl = null;
        long? exp = null;
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (body.Length > 64 * 1024) throw new XetFormatException($"{url}: token answer of {body.Length} bytes; expected a small JSON object.");
        if (body.Length > 0)
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.ValueKind == JsonValueKind.Object)
                {
                    if (json.RootElement.TryGetProperty("accessToken", out var a) && a.ValueKind == JsonValueKind.String) accessToken = a.GetString();
                    if (json.RootElement.TryGetProperty("casUrl", out var c) && c.ValueKind == JsonValueKind.String) casUrl = c.GetString();
                    if (json.RootElement.TryGetProperty("exp", out var e) && e.TryGetInt64(out var seconds)) exp = seconds;
                }
            }
            catch (JsonException)
            {
                // Some servers answer with headers only; those are read below.
            }
        }
        // The same answer also comes as headers (Python's client reads those).
        accessToken ??= Header(response, "X-Xet-Access-Token");
        casUrl ??= Header(response, "X-Xet-Cas-Url");
        if (exp is null && Header(response, "X-Xet-Token-Expiration") is { } expHeader
            && long.TryParse(expHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)) exp = parsed;

        if (string.IsNullOrEmpty(accessToken) || casUrl is null || exp is null)
            throw new XetFormatException($"{url}: the token answer lacks accessToken, casUrl or exp (JSON or X-Xet-* headers).");
        if (!Uri.TryCreate(casUrl, UriKind.Absolute, out var cas) || (cas.Scheme != Uri.UriSchemeHttp && cas.Scheme != Uri.UriSchemeHttps))
            throw new XetFormatException($"{url}: casUrl {Text.SafeText.Quote(casUrl)} is not an absolute http(s) URL.");
        return new XetToken(accessToken, cas, DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(exp.Value, 0, 253402300799)));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
