using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Adapters.Hub.Download;
using Adapters.Hub.Http;
using Adapters.Hub.Routing;

namespace Adapters.Hub.Upload;

/// <summary>
/// Uploads LFS objects through the git-lfs batch API as Python's <c>huggingface_hub</c> does without Xet:
/// one batch call per 256 objects, then a basic PUT or presigned multipart PUTs plus a completion POST,
/// then the optional verify POST. Objects the server already stores come back without actions and are skipped.
/// </summary>
internal sealed class LfsUploader
{
    private const int BatchSize = 256;
    private const string LfsMediaType = "application/vnd.git-lfs+json";

    private readonly HubConnection _connection;
    private readonly XetUploader _xet;

    public LfsUploader(HubConnection connection)
    {
        _connection = connection;
        _xet = new XetUploader(connection, new Xet.Cas.XetTokenSource(connection), new Xet.Cas.CasClient(connection));
    }

    public async Task UploadAsync(
        string repoId,
        RepoType repoType,
        string? revision,
        IReadOnlyList<CommitOperationAdd> files,
        int maxConcurrency,
        ProgressTracker progress,
        CancellationToken cancellationToken)
    {
        var batchUri = _connection.BuildUri(HubRoutes.LfsBatch.Expand(repoType, repoId));
        var pending = new List<(CommitOperationAdd File, LfsBatchObject Answer)>();
        var xetFiles = new List<CommitOperationAdd>();
        (Uri Url, Xet.Cas.XetToken? Token)? xetAuth = null;
        foreach (var chunk in files.Chunk(BatchSize))
        {
            var request = new LfsBatchRequest(
                "upload",
                _connection.Options.UseXet ? ["basic", "multipart", "xet"] : ["basic", "multipart"],
                chunk.Select(f => new LfsObjectId(f.Fingerprint.Sha256, f.Fingerprint.Size)).ToList(),
                "sha256",
                revision is null ? null : new LfsRef(revision));
            var response = await _connection.PostJsonAsync<LfsBatchRequest, LfsBatchResponse>(batchUri, request, message =>
            {
                message.Headers.Accept.Clear();
                message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(LfsMediaType));
                message.Content = HubConnection.JsonBody(request, LfsMediaType);
            }, cancellationToken).ConfigureAwait(false);

            var answers = (response.Objects ?? []).ToDictionary(o => o.Oid, StringComparer.Ordinal);
            foreach (var file in chunk)
            {
                if (!answers.TryGetValue(file.Fingerprint.Sha256, out var answer))
                {
                    throw new HubException($"The LFS batch answer from {batchUri} has no entry for '{file.PathInRepo}' (oid {file.Fingerprint.Sha256}).");
                }
                if (answer.Error is { } error)
                {
                    throw new HubException($"The Hub refused the LFS upload of '{file.PathInRepo}' (oid {answer.Oid}): {error.Code} {error.Message}");
                }
                if (answer.Actions?.Upload is null)
                {
                    progress.FileCompleted(file.Fingerprint.Size);
                    continue;
                }
                if (response.Transfer == "xet" && _connection.Options.UseXet)
                {
                    // The action's href is the write-token URL; its headers may carry a first token.
                    xetAuth ??= (ResolveHref(answer.Actions.Upload.Href), XetTokenFrom(answer.Actions.Upload.Header));
                    xetFiles.Add(file);
                    continue;
                }
                pending.Add((file, answer));
            }
        }

        if (xetFiles.Count > 0)
        {
            await _xet.UploadAsync(xetFiles, xetAuth!.Value.Url, xetAuth.Value.Token, progress, cancellationToken).ConfigureAwait(false);
        }

        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = maxConcurrency, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            var upload = item.Answer.Actions!.Upload!;
            if (upload.Header is { } header && header.TryGetValue("chunk_size", out var chunkSize))
            {
                await UploadMultipartAsync(item.File, upload, ParseLong(chunkSize, "chunk_size", item.File), maxConcurrency, progress, ct).ConfigureAwait(false);
            }
            else
            {
                await UploadBasicAsync(item.File, upload, progress, ct).ConfigureAwait(false);
            }
            if (item.Answer.Actions.Verify is { } verify)
            {
                var verifyUri = ResolveHref(verify.Href);
                await _connection.PostJsonAsync<LfsObjectId, JsonElement>(verifyUri, new LfsObjectId(item.File.Fingerprint.Sha256, item.File.Fingerprint.Size), message =>
                {
                    ApplyHeaders(message, verify.Header);
                    message.Content = HubConnection.JsonBody(new LfsObjectId(item.File.Fingerprint.Sha256, item.File.Fingerprint.Size), LfsMediaType);
                }, ct).ConfigureAwait(false);
            }
            progress.FileCompleted();
        }).ConfigureAwait(false);
    }

    /// <summary>The CAS token an LFS batch answer may hand out with a <c>xet</c> action (X-Xet-* headers), or null.</summary>
    private static Xet.Cas.XetToken? XetTokenFrom(Dictionary<string, JsonElement>? header)
    {
        string? Value(string name) => header?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
        if (Value("X-Xet-Access-Token") is not { Length: > 0 } token || Value("X-Xet-Cas-Url") is not { } cas
            || !Uri.TryCreate(cas, UriKind.Absolute, out var casUrl)
            || !long.TryParse(Value("X-Xet-Token-Expiration"), NumberStyles.None, CultureInfo.InvariantCulture, out var exp))
            return null;
        return new Xet.Cas.XetToken(token, casUrl, DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(exp, 0, 253402300799)));
    }

    private async Task UploadBasicAsync(CommitOperationAdd file, LfsAction upload, ProgressTracker progress, CancellationToken cancellationToken)
    {
        var uri = ResolveHref(upload.Href);
        await PutAsync(uri, file, 0, file.Fingerprint.Size, progress, $"'{file.PathInRepo}'", cancellationToken).ConfigureAwait(false);
    }

    private async Task UploadMultipartAsync(CommitOperationAdd file, LfsAction upload, long chunkSize, int maxConcurrency, ProgressTracker progress, CancellationToken cancellationToken)
    {
        var size = file.Fingerprint.Size;
        if (chunkSize <= 0) throw new HubException($"The LFS server gave '{file.PathInRepo}' a chunk_size of {chunkSize}; expected a positive number.");
        var partUrls = upload.Header!
            .Where(h => h.Key.Length > 0 && h.Key.All(char.IsAsciiDigit))
            .Select(h => (Number: int.Parse(h.Key, CultureInfo.InvariantCulture), Url: h.Value.GetString() ?? ""))
            .OrderBy(p => p.Number)
            .ToList();
        var expectedParts = (int)((size + chunkSize - 1) / chunkSize);
        if (partUrls.Count != expectedParts)
        {
            throw new HubException($"The LFS server gave '{file.PathInRepo}' {partUrls.Count} part URLs; {size} bytes in chunks of {chunkSize} need {expectedParts}.");
        }

        var etags = new string[partUrls.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, partUrls.Count), new ParallelOptions { MaxDegreeOfParallelism = maxConcurrency, CancellationToken = cancellationToken }, async (index, ct) =>
        {
            var offset = index * chunkSize;
            var length = Math.Min(chunkSize, size - offset);
            etags[index] = await PutAsync(ResolveHref(partUrls[index].Url), file, offset, length, progress, $"part {index + 1} of '{file.PathInRepo}'", ct).ConfigureAwait(false);
        }).ConfigureAwait(false);

        var completion = new LfsCompletion(file.Fingerprint.Sha256, etags.Select((etag, i) => new LfsCompletedPart(i + 1, etag)).ToList());
        var completionUri = ResolveHref(upload.Href);
        // The completion URL is presigned: like Python, send it without the Hub's token.
        using var request = new HttpRequestMessage(HttpMethod.Post, completionUri);
        request.Headers.TryAddWithoutValidation("User-Agent", _connection.Options.UserAgent);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(LfsMediaType));
        request.Content = HubConnection.JsonBody(completion, LfsMediaType);
        using var response = await _connection.SendRawAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// PUTs one byte range and returns the response's ETag. The range is sent through the retry pipeline
    /// only (it re-serializes the content on each attempt), so a part is PUT at most
    /// <see cref="HubRetryOptions.MaxRetries"/> + 1 times.
    /// </summary>
    private async Task<string> PutAsync(Uri uri, CommitOperationAdd file, long offset, long length, ProgressTracker progress, string what, CancellationToken cancellationToken)
    {
        using var content = new FileRangeContent(file, offset, length, progress.AddBytes);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = content };
            request.Headers.TryAddWithoutValidation("User-Agent", _connection.Options.UserAgent);
            using var response = await _connection.SendRawAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
            return response.Headers.ETag?.Tag.Trim('"') ?? "";
        }
        catch (HubException ex)
        {
            content.RetractReported();
            throw new HubException($"Uploading {what} to {uri.GetLeftPart(UriPartial.Path)} failed: {ex.Message}", ex);
        }
    }

    /// <summary>Python's <c>fix_hf_endpoint_in_url</c>: URLs on the public Hub point to the configured endpoint instead.</summary>
    private Uri ResolveHref(string href)
    {
        foreach (var publicHub in new[] { "https://huggingface.co", "https://hub-ci.huggingface.co" })
        {
            if (href.StartsWith(publicHub + "/", StringComparison.Ordinal) && !_connection.IsHubOrigin(new Uri(publicHub)))
            {
                return new Uri(_connection.Endpoint, href[(publicHub.Length + 1)..]);
            }
        }
        return new Uri(_connection.Endpoint, href);
    }

    private static void ApplyHeaders(HttpRequestMessage message, Dictionary<string, JsonElement>? headers)
    {
        if (headers is null) return;
        foreach (var (name, value) in headers)
        {
            message.Headers.TryAddWithoutValidation(name, value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText());
        }
    }

    private static long ParseLong(JsonElement value, string name, CommitOperationAdd file) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var n) => n,
        JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n,
        _ => throw new HubException($"The LFS server's '{name}' for '{file.PathInRepo}' is {value.GetRawText()}; expected a whole number."),
    };
}
