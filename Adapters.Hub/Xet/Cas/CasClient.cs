using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Adapters.Hub.Http;
using Adapters.Hub.Xet.Shards;

namespace Adapters.Hub.Xet.Cas;

/// <summary>
/// The CAS API a Xet client calls, each request authorised with a CAS token (never the Hub token): file
/// reconstructions, xorb byte ranges, xorb and shard uploads, and the global-dedupe chunk query.
/// </summary>
internal sealed class CasClient(HubConnection connection)
{
    /// <summary>Largest reconstruction answer read (its terms are bounded by <see cref="XetReconstruction.MaxTerms"/> too).</summary>
    private const int MaxReconstructionBytes = 64 << 20;

    /// <summary>The terms and fetch URLs that rebuild <paramref name="fileHash"/>.</summary>
    public async Task<XetReconstruction> GetReconstructionAsync(XetToken token, XetHash fileHash, CancellationToken cancellationToken)
    {
        var uri = Endpoint(token, $"v1/reconstructions/{fileHash}");
        using var response = await SendAsync(HttpMethod.Get, uri, token, null, null, cancellationToken).ConfigureAwait(false);
        await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var body = await ReadBoundedAsync(response, MaxReconstructionBytes, uri, cancellationToken).ConfigureAwait(false);
        return XetReconstruction.Parse(body, SecretRedactor.Redact(uri));
    }

    /// <summary>The bytes of <paramref name="fetch"/>'s range of a xorb, exactly <see cref="XetFetchInfo.ByteLength"/> of them.</summary>
    public async Task<byte[]> GetXorbRangeAsync(XetToken token, XetFetchInfo fetch, CancellationToken cancellationToken)
    {
        // A presigned URL needs no credential; the CAS token goes only to the CAS's own origin.
        var sameOrigin = Uri.Compare(fetch.Url, token.CasUrl, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
        using var response = await connection.SendAsync(HttpMethod.Get, fetch.Url, RedirectPolicy.All, request =>
        {
            request.Headers.Authorization = sameOrigin ? new AuthenticationHeaderValue("Bearer", token.AccessToken) : null;
            request.Headers.Range = new RangeHeaderValue(fetch.ByteStart, fetch.ByteEndInclusive);
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var url = SecretRedactor.Redact(fetch.Url);
        if (response.StatusCode == HttpStatusCode.OK && fetch.ByteStart != 0)
            throw new XetFormatException($"{url}: answered 200 with the whole object to a request for bytes {fetch.ByteStart}-{fetch.ByteEndInclusive}; expected 206.");
        if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange is { } range
            && (range.From != fetch.ByteStart || range.To != fetch.ByteEndInclusive))
            throw new XetFormatException($"{url}: answered Content-Range '{range}' to a request for bytes {fetch.ByteStart}-{fetch.ByteEndInclusive}.");
        byte[] body;
        try
        {
            body = await ReadBoundedAsync(response, fetch.ByteLength, fetch.Url, cancellationToken,
                keepPrefix: response.StatusCode == HttpStatusCode.OK).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            throw new Download.TransferInterruptedException($"{url}: the body broke off: {SecretRedactor.Redact(ex.Message)}", ex);
        }
        if (body.Length < fetch.ByteLength)
            throw new Download.TransferInterruptedException($"{url}: sent {body.Length} of the {fetch.ByteLength} bytes of the range {fetch.ByteStart}-{fetch.ByteEndInclusive}.");
        return body;
    }

    /// <summary>POSTs a serialised xorb; returns whether the CAS stored it (false: it already had it).</summary>
    public async Task<bool> UploadXorbAsync(XetToken token, XetHash xorbHash, ReadOnlyMemory<byte> xorb, CancellationToken cancellationToken)
    {
        var uri = Endpoint(token, $"v1/xorbs/default/{xorbHash}");
        using var response = await SendAsync(HttpMethod.Post, uri, token, new ReadOnlyMemoryContent(xorb), null, cancellationToken).ConfigureAwait(false);
        await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var body = await ReadBoundedAsync(response, 64 * 1024, uri, cancellationToken).ConfigureAwait(false);
        try
        {
            using var json = JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body);
            return !json.RootElement.TryGetProperty("was_inserted", out var inserted) || inserted.ValueKind != JsonValueKind.False;
        }
        catch (JsonException)
        {
            return true;
        }
    }

    /// <summary>POSTs a shard that records files (every xorb it references must be uploaded first).</summary>
    public async Task UploadShardAsync(XetToken token, ReadOnlyMemory<byte> shard, CancellationToken cancellationToken)
    {
        var uri = Endpoint(token, "v1/shards");
        using var response = await SendAsync(HttpMethod.Post, uri, token, new ReadOnlyMemoryContent(shard), null, cancellationToken).ConfigureAwait(false);
        await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks whether the CAS knows <paramref name="chunkHash"/> (global dedupe); returns the shard it answers with
    /// (xorbs whose chunk hashes are keyed with its HMAC key), or null for 404 (unknown).
    /// </summary>
    public async Task<XetShard?> QueryChunkAsync(XetToken token, XetHash chunkHash, CancellationToken cancellationToken)
    {
        var uri = Endpoint(token, $"v1/chunks/default-merkledb/{chunkHash}");
        using var response = await SendAsync(HttpMethod.Get, uri, token, null, null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var body = await ReadBoundedAsync(response, (int)XetShardLimits.Default.MaxSerializedBytes, uri, cancellationToken).ConfigureAwait(false);
        return XetShardReader.Read(body, SecretRedactor.Redact(uri));
    }

    private static Uri Endpoint(XetToken token, string relative) =>
        new($"{token.CasUrl.AbsoluteUri.TrimEnd('/')}/{relative}");

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, XetToken token, HttpContent? content,
        Action<HttpRequestMessage>? configure, CancellationToken cancellationToken) =>
        connection.SendAsync(method, uri, RedirectPolicy.None, request =>
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.AccessToken);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Content = content;
            configure?.Invoke(request);
        }, cancellationToken: cancellationToken);

    /// <summary>
    /// The body, refused past <paramref name="limit"/> bytes; with <paramref name="keepPrefix"/> (a whole object
    /// sent where a range starting at 0 was asked for) the first <paramref name="limit"/> bytes are kept instead.
    /// </summary>
    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, long limit, Uri uri, CancellationToken cancellationToken, bool keepPrefix = false)
    {
        if (!keepPrefix && response.Content.Headers.ContentLength is { } declared && declared > limit)
            throw new XetFormatException($"{SecretRedactor.Redact(uri)}: answer of {declared} bytes exceeds the limit of {limit}.");
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream((int)Math.Min(limit, 1 << 20));
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length <= limit) continue;
            if (keepPrefix) return buffer.GetBuffer().AsSpan(0, (int)limit).ToArray();
            throw new XetFormatException($"{SecretRedactor.Redact(uri)}: answer exceeds the limit of {limit} bytes.");
        }
        return buffer.ToArray();
    }
}
