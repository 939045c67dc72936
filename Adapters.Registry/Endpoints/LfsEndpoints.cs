using Adapters.Hub.IO;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Adapters.Registry.Auth;
using Adapters.Registry.Storage;
using Adapters.Registry.Xet;
using Adapters.Hub.Routing;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Endpoints;

/// <summary>
/// The git-lfs batch API as the Hub speaks it (<c>/{prefix}{repo}.git/info/lfs/objects/batch</c>) plus the
/// upload URLs it hands out: <c>basic</c> (one PUT) or <c>multipart</c> (presigned part PUTs and a
/// completion POST). Uploads take <c>xet</c> when the client offers it (<see cref="XetLfsTransfer"/>).
/// </summary>
internal static class LfsEndpoints
{
    private const string LfsMediaType = "application/vnd.git-lfs+json";

    /// <summary>
    /// <c>POST .../info/lfs/objects/batch</c>. The caller must be able to read the repository before its body
    /// is read (which operation it asks for is in the body); uploads then need a write token.
    /// </summary>
    public static async Task BatchAsync(HttpContext context, ServeServices services, RepoKey key)
    {
        services.RequireRead(context, key);
        var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        var operation = HttpIo.String(body, "operation");
        if (operation != "download") services.RequireWrite(context, key);
        if (operation is not ("upload" or "download"))
        {
            throw new RegistryException(422, null, $"LFS batch operation '{operation}' is not supported; expected 'upload' or 'download'.");
        }
        if (HttpIo.String(body, "hash_algo") is { } algo && algo is not ("sha256" or "sha_256"))
        {
            throw new RegistryException(422, null, $"LFS hash_algo '{algo}' is not supported; this server addresses objects by sha256.");
        }
        var transfers = body.TryGetProperty("transfers", out var t) && t.ValueKind == JsonValueKind.Array
            ? t.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToHashSet(StringComparer.Ordinal)
            : ["basic"];
        var xet = operation == "upload" && transfers.Contains(XetLfsTransfer.Name);
        if (!xet && !transfers.Contains("basic") && !transfers.Contains("multipart"))
        {
            throw new RegistryException(422, null, $"None of the offered LFS transfers ({string.Join(", ", transfers)}) is supported; this server speaks basic, multipart and xet (uploads).");
        }
        if (!body.TryGetProperty("objects", out var objects) || objects.ValueKind != JsonValueKind.Array)
        {
            throw RegistryException.BadRequest("The LFS batch request needs an 'objects' array of {oid, size}.");
        }

        var baseUrl = HttpIo.BaseUrl(context);
        var usedMultipart = false;
        var answers = new List<Dictionary<string, object?>>();
        foreach (var item in objects.EnumerateArray())
        {
            var oid = HttpIo.String(item, "oid") ?? "";
            var size = item.TryGetProperty("size", out var s) && s.TryGetInt64(out var n) ? n : -1;
            var answer = new Dictionary<string, object?> { ["oid"] = oid, ["size"] = size };
            answers.Add(answer);
            if (!ContentHashes.IsSha256(oid) || size < 0)
            {
                answer["error"] = new { code = 422, message = $"Object {oid} must have a lower-case sha256 oid and a size of 0 or more." };
                continue;
            }
            var stored = XetLfsTransfer.StoredSize(services, key, oid);
            if (operation == "download")
            {
                if (stored is null)
                {
                    answer["error"] = new { code = 404, message = $"Object {oid} does not exist." };
                    continue;
                }
                answer["authenticated"] = true;
                answer["actions"] = new { download = new { href = FileEndpoints.SignedBlobUrl(services, baseUrl, oid, null), expires_in = (int)services.Options.UrlLifetime.TotalSeconds } };
                continue;
            }
            if (stored == size) continue;
            if (stored is not null)
            {
                answer["error"] = new { code = 422, message = $"Object {oid} is stored with {stored} bytes, not {size}." };
                continue;
            }
            answer["authenticated"] = true;
            if (xet)
            {
                answer["actions"] = XetLfsTransfer.UploadAction(context, services, key, body);
                continue;
            }
            var multipart = (transfers.Contains("multipart") && size > services.Options.LfsChunkSize) || !transfers.Contains("basic");
            var session = services.Sessions.Open(oid, size, multipart ? services.Options.LfsChunkSize : 0);
            var uploadUrl = $"{baseUrl}/lfs-uploads/{session.Id}";
            var actions = new Dictionary<string, object?>();
            if (multipart)
            {
                usedMultipart = true;
                var header = new Dictionary<string, string> { ["chunk_size"] = services.Options.LfsChunkSize.ToString(CultureInfo.InvariantCulture) };
                for (var part = 1; part <= session.PartCount; part++)
                {
                    header[part.ToString("D5", CultureInfo.InvariantCulture)] = $"{uploadUrl}/{part}";
                }
                actions["upload"] = new { href = uploadUrl, header, expires_in = (int)services.Options.UrlLifetime.TotalSeconds };
            }
            else
            {
                actions["upload"] = new { href = uploadUrl, expires_in = (int)services.Options.UrlLifetime.TotalSeconds };
            }
            actions["verify"] = new { href = $"{baseUrl}/{HubRoutes.LfsVerify.Expand(key.Type, key.Id)}" };
            answer["actions"] = actions;
        }
        await HttpIo.WriteJsonAsync(context, new { transfer = xet ? XetLfsTransfer.Name : usedMultipart ? "multipart" : "basic", objects = answers, hash_algo = "sha256" }, contentType: LfsMediaType).ConfigureAwait(false);
    }

    /// <summary><c>POST .../objects/verify</c> with <c>{oid, size}</c>: 200 when the object is stored with that size, else 404.</summary>
    public static async Task VerifyAsync(HttpContext context, ServeServices services, RepoKey key)
    {
        services.RequireRead(context, key);
        var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        var oid = HttpIo.String(body, "oid") ?? "";
        var size = body.TryGetProperty("size", out var s) && s.TryGetInt64(out var n) ? n : -1;
        var stored = ContentHashes.IsSha256(oid) ? services.Store.Blobs.LfsSize(oid) : null;
        if (stored is null || stored != size)
        {
            throw new RegistryException(404, null, $"LFS object {oid} with {size} bytes is not stored.");
        }
        await HttpIo.WriteJsonAsync(context, new { oid, size }, contentType: LfsMediaType).ConfigureAwait(false);
    }

    /// <summary><c>PUT /lfs-uploads/{id}</c>: the whole object (basic transfer), verified before it is stored.</summary>
    public static async Task PutObjectAsync(HttpContext context, ServeServices services, string sessionId)
    {
        var session = services.Sessions.Get(sessionId);
        if (session.ChunkSize > 0) throw RegistryException.BadRequest($"Upload {sessionId} is multipart; PUT its parts instead.");
        // The object streams to disk; the server refuses any byte beyond the size the batch announced.
        HttpIo.LimitBody(context, session.Size);
        try
        {
            await services.Store.Blobs.PutLfsAsync(context.Request.Body, session.Oid, session.Size, context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            if (services.Store.Blobs.LfsSize(session.Oid) is not null) services.Sessions.Close(session);
        }
        context.Response.Headers.ETag = $"\"{session.Oid}\"";
        context.Response.StatusCode = 200;
        context.Response.ContentLength = 0;
    }

    /// <summary><c>PUT /lfs-uploads/{id}/{part}</c>: one part of a multipart upload; answers its ETag (MD5, as object stores do).</summary>
    public static async Task PutPartAsync(HttpContext context, ServeServices services, string sessionId, string partText)
    {
        var session = services.Sessions.Get(sessionId);
        if (!int.TryParse(partText, NumberStyles.None, CultureInfo.InvariantCulture, out var part) || part < 1 || part > session.PartCount)
        {
            throw RegistryException.BadRequest($"Upload {sessionId} has parts 1 to {session.PartCount}; '{partText}' is not one of them.");
        }
        var expected = session.PartLength(part);
        HttpIo.LimitBody(context, expected);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        await AtomicFile.WriteAsync(session.PartPath(part), async (file, ct) =>
        {
            long written = 0;
            var buffer = new byte[1 << 20];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                written += read;
                if (written > expected) throw RegistryException.BadRequest($"Part {part} of upload {sessionId} must be {expected} bytes; more arrived.");
                md5.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            }
            if (written != expected) throw RegistryException.BadRequest($"Part {part} of upload {sessionId} must be {expected} bytes; {written} arrived.");
        }, WriteDurability.FileOnDisk, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        var etag = Convert.ToHexStringLower(md5.GetHashAndReset());
        session.PartEtags[part] = etag;
        context.Response.Headers.ETag = $"\"{etag}\"";
        context.Response.StatusCode = 200;
        context.Response.ContentLength = 0;
    }

    /// <summary>
    /// <c>POST /lfs-uploads/{id}</c> with <c>{oid, parts:[{partNumber, etag}]}</c>: checks every part's ETag,
    /// assembles the parts, verifies size and SHA-256, and only then stores the object.
    /// </summary>
    public static async Task CompleteAsync(HttpContext context, ServeServices services, string sessionId)
    {
        var session = services.Sessions.Get(sessionId);
        var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        if (session.ChunkSize == 0) throw RegistryException.BadRequest($"Upload {sessionId} is a basic upload; PUT the object instead.");
        if (!string.Equals(HttpIo.String(body, "oid"), session.Oid, StringComparison.OrdinalIgnoreCase))
        {
            throw RegistryException.BadRequest($"The completion names oid '{HttpIo.String(body, "oid")}', but upload {sessionId} is for {session.Oid}.");
        }
        var parts = body.TryGetProperty("parts", out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().ToList() : [];
        if (parts.Count != session.PartCount) throw RegistryException.BadRequest($"Upload {sessionId} has {session.PartCount} parts; the completion lists {parts.Count}.");
        foreach (var part in parts)
        {
            var number = part.TryGetProperty("partNumber", out var p) && p.TryGetInt32(out var value) ? value : 0;
            var etag = (HttpIo.String(part, "etag") ?? "").Replace("W/", "", StringComparison.Ordinal).Trim('"');
            if (!session.PartEtags.TryGetValue(number, out var received) || received != etag)
            {
                throw RegistryException.BadRequest($"Part {number} of upload {sessionId} was not received with ETag '{etag}'.");
            }
        }
        var files = Enumerable.Range(1, session.PartCount).Select(session.PartPath).ToList();
        await services.Store.Blobs.AssembleLfsAsync(files, session.Oid, session.Size, context.RequestAborted).ConfigureAwait(false);
        services.Sessions.Close(session);
        await HttpIo.WriteJsonAsync(context, new { oid = session.Oid, size = session.Size }, contentType: LfsMediaType).ConfigureAwait(false);
    }
}
