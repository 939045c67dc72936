using System.Globalization;
using Adapters.Hub.Xet;
using Adapters.Registry.Auth;
using Adapters.Registry.Endpoints;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Xet;

/// <summary>
/// The Xet CAS API under <c>/xet-cas</c> (the <c>casUrl</c> the token routes hand out), authorised by CAS tokens
/// (<see cref="XetCasTokens"/>): xorb upload, shard upload, reconstruction queries (v1 <c>fetch_info</c> and v2
/// <c>xorbs</c> shapes) and the global dedupe query; plus the presigned xorb byte ranges reconstructions point at.
/// </summary>
internal static class XetCasEndpoints
{
    public const string CasSegment = "xet-cas";

    /// <summary>Dispatches a path under <c>/xet-cas</c>; false when it is none of the CAS routes.</summary>
    public static bool TryRoute(HttpContext context, ServeServices services, string[] s, out Task handled)
    {
        handled = Task.CompletedTask;
        if (s.Length < 2 || s[0] != CasSegment) return false;
        var method = context.Request.Method;
        var get = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var post = HttpMethods.IsPost(method);
        if (post && s.Length == 5 && s[1] == "v1" && s[2] == "xorbs" && s[3] == "default") handled = PutXorbAsync(context, services, s[4]);
        else if (post && s.Length == 3 && s[1] == "v1" && s[2] == "shards") handled = XetShardEndpoint.PutShardAsync(context, services, Grant(context, services, AccessLevel.Write));
        else if (get && s.Length == 4 && s[1] is "v1" or "v2" && s[2] == "reconstructions") handled = ReconstructionAsync(context, services, s[3], version2: s[1] == "v2");
        else if (get && s.Length == 5 && s[1] == "v1" && s[2] == "chunks" && s[3] is "default" or "default-merkledb") handled = XetShardEndpoint.ChunkAsync(context, services, s[4]);
        else if (get && s.Length == 3 && s[1] == "xorbs") handled = XorbBytesAsync(context, services, s[2]);
        else return false;
        return true;
    }

    /// <summary>The caller's CAS grant; 401 without a valid token, 403 when it may only read and <paramref name="needed"/> is write.</summary>
    public static XetCasGrant Grant(HttpContext context, ServeServices services, AccessLevel needed)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        var grant = services.XetTokens.Verify(token)
            ?? throw new RegistryException(401, null, "The Xet CAS API needs 'Authorization: Bearer <token>' with an unexpired token from /api/{type}/{repo}/xet-read-token or xet-write-token.");
        if (grant.Level < needed) throw new RegistryException(403, null, $"This CAS token may only read {grant.Repo}; uploading needs a token from xet-write-token.");
        return grant;
    }

    /// <summary><c>POST /v1/xorbs/default/{hash}</c>: parses the xorb, checks its hash, stores it once; <c>{was_inserted}</c>.</summary>
    private static async Task PutXorbAsync(HttpContext context, ServeServices services, string hashText)
    {
        Grant(context, services, AccessLevel.Write);
        if (!XetHash.TryParse(hashText, out var hash)) throw RegistryException.BadRequest($"'{hashText}' is not a xorb hash: expected 64 hex digits.");
        var body = await ReadBodyAsync(context, XorbLimits.Default.MaxSerializedBytes).ConfigureAwait(false);
        var inserted = await services.Xet.PutXorbAsync(hash, body, context.RequestAborted).ConfigureAwait(false);
        await HttpIo.WriteJsonAsync(context, new { was_inserted = inserted }).ConfigureAwait(false);
    }

    /// <summary>Reads a whole binary body of at most <paramref name="limit"/> bytes.</summary>
    public static async Task<byte[]> ReadBodyAsync(HttpContext context, long limit)
    {
        HttpIo.LimitBody(context, limit);
        using var buffer = new MemoryStream(context.Request.ContentLength is { } length and <= int.MaxValue ? (int)length : 1 << 20);
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>
    /// <c>GET /v1|v2/reconstructions/{file_hash}</c> (optionally with <c>Range: bytes=a-b</c> over the file's bytes):
    /// the terms and where to fetch them. Only files the token's repository may read are answered; others are 404,
    /// the same as files that do not exist.
    /// </summary>
    private static Task ReconstructionAsync(HttpContext context, ServeServices services, string fileHashText, bool version2)
    {
        var grant = Grant(context, services, AccessLevel.Read);
        var fileHash = XetHash.TryParse(fileHashText, out var parsed) ? parsed.ToString() : throw RegistryException.BadRequest($"'{fileHashText}' is not a file hash: expected 64 hex digits.");
        var file = services.Xet.Metadata.RepoMayRead(grant.Repo, fileHash) ? services.Xet.Metadata.FindFile(fileHash) : null;
        if (file is null) throw new RegistryException(404, null, $"File {fileHash} is not stored for {grant.Repo}.");
        long first = 0, last = file.Size - 1;
        if (context.Request.Headers.Range.ToString() is { Length: > 0 } range)
        {
            if (!TryParseRange(range, out first, out var requestedLast)) throw RegistryException.BadRequest($"Range '{range}' is not 'bytes=start-end'.");
            if (first >= file.Size)
            {
                throw new RegistryException(416, null, $"Range '{range}' starts past the end of file {fileHash} ({file.Size} bytes).")
                {
                    Headers = new Dictionary<string, string> { ["Content-Range"] = $"bytes */{file.Size}" },
                };
            }
            last = Math.Min(requestedLast, file.Size - 1);
        }
        var plan = XetReconstructionPlan.For(file, first, last, xorb => services.Xet.Layout(xorb)
            ?? throw new InvalidDataException($"Xorb {xorb} of file {fileHash} is recorded but not stored."));
        var baseUrl = HttpIo.BaseUrl(context);
        var terms = plan.Terms.Select(t => new { hash = t.XorbHash, unpacked_length = t.UnpackedLength, range = new { start = t.Start, end = t.End } }).ToList();
        string Url(XetReconstructionPlan.Fetch f) =>
            $"{baseUrl}/{CasSegment}/xorbs/{f.XorbHash}?chunks={f.ChunkStart}-{f.ChunkEnd}&{services.Signer.Sign(XorbSubject(f.XorbHash))}";
        object answer = version2
            ? new
            {
                offset_into_first_range = plan.OffsetIntoFirstRange,
                terms,
                xorbs = plan.Fetches.GroupBy(f => f.XorbHash).ToDictionary(g => g.Key, g => g.Select(f => new
                {
                    url = Url(f),
                    ranges = new[] { new { chunks = new { start = f.ChunkStart, end = f.ChunkEnd }, bytes = new { start = f.ByteStart, end = f.ByteEnd } } },
                }).ToList()),
            }
            : new
            {
                offset_into_first_range = plan.OffsetIntoFirstRange,
                terms,
                fetch_info = plan.Fetches.GroupBy(f => f.XorbHash).ToDictionary(g => g.Key, g => g.Select(f => new
                {
                    range = new { start = f.ChunkStart, end = f.ChunkEnd },
                    url = Url(f),
                    url_range = new { start = f.ByteStart, end = f.ByteEnd },
                }).ToList()),
            };
        return HttpIo.WriteJsonAsync(context, answer);
    }

    /// <summary>
    /// <c>GET /xet-cas/xorbs/{hash}?expires=&amp;signature=</c> with a byte range: the stored xorb as the URLs of a
    /// reconstruction promise it (presigned, like the LFS blob redirect; clients send no token there).
    /// </summary>
    private static Task XorbBytesAsync(HttpContext context, ServeServices services, string xorbHash)
    {
        if (!services.Signer.Verify(XorbSubject(xorbHash), HttpIo.Query(context, "expires"), HttpIo.Query(context, "signature")))
        {
            throw new RegistryException(403, null, $"The URL of xorb {xorbHash} is not signed by this registry or has expired; ask for the reconstruction again.");
        }
        if (!services.Xet.Metadata.HasXorb(xorbHash)) throw new RegistryException(404, null, $"Xorb {xorbHash} is not stored.");
        var path = services.Xet.XorbPath(xorbHash);
        return RangeResponse.SendAsync(context, path, new FileInfo(path).Length);
    }

    private static string XorbSubject(string xorbHash) => "xet-xorb\n" + xorbHash;

    private static bool TryParseRange(string header, out long first, out long last)
    {
        first = 0;
        last = long.MaxValue;
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return false;
        var spec = header["bytes=".Length..].Trim();
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || spec.Contains(',', StringComparison.Ordinal)) return false;
        if (!long.TryParse(spec[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out first)) return false;
        var end = spec[(dash + 1)..];
        if (end.Length == 0) return true;
        return long.TryParse(end, NumberStyles.None, CultureInfo.InvariantCulture, out last) && last >= first;
    }
}
