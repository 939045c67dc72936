using System.Globalization;
using Adapters.Registry.Auth;
using Adapters.Registry.Storage;
using Adapters.Registry.Xet;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Endpoints;

/// <summary>
/// File downloads as the Hub serves them. <c>/resolve/</c> answers a regular file itself (git SHA-1 ETag)
/// and redirects an LFS file to the presigned blob route with <c>X-Linked-Etag</c> (its SHA-256) and
/// <c>X-Linked-Size</c>; <c>/raw/</c> serves the git view (the pointer for LFS). Every answer names the
/// resolved commit in <c>X-Repo-Commit</c>, errors included.
/// </summary>
internal static class FileEndpoints
{
    public static Task ResolveAsync(HttpContext context, ServeServices services, RepoKey key, string revision, string path, bool raw)
    {
        services.RequireRead(context, key);
        var resolved = services.Store.Resolve(key, revision);
        if (!resolved.Commit.Files.TryGetValue(path, out var file))
        {
            throw RegistryException.EntryNotFound(path, resolved.CommitId);
        }
        var headers = context.Response.Headers;
        headers["X-Repo-Commit"] = resolved.CommitId;
        headers["Content-Disposition"] = $"inline; filename*=UTF-8''{Uri.EscapeDataString(path[(path.LastIndexOf('/') + 1)..])}";
        if (!file.Lfs)
        {
            headers.ETag = $"\"{file.Oid}\"";
            return RangeResponse.SendAsync(context, services.Store.Blobs.GitPath(file.Oid), file.Size);
        }
        if (raw)
        {
            var pointer = LfsPointer.Text(file.Oid, file.Size);
            headers.ETag = $"\"{ContentHashes.GitBlobSha1(pointer)}\"";
            context.Response.ContentType = "text/plain; charset=utf-8";
            context.Response.ContentLength = pointer.Length;
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(pointer, context.RequestAborted).AsTask();
        }
        if (file.XetHash is { } xetHash)
        {
            XetDownloads.AddHeaders(context, key, resolved.CommitId, xetHash);
            if (XetDownloads.WantsFileInfo(context)) return XetDownloads.FileInfoAsync(context, key, resolved.CommitId, file);
        }
        headers.ETag = $"\"{file.Oid}\"";
        headers["X-Linked-Etag"] = $"\"{file.Oid}\"";
        headers["X-Linked-Size"] = file.Size.ToString(CultureInfo.InvariantCulture);
        headers.Location = SignedBlobUrl(services, HttpIo.BaseUrl(context), file.Oid, resolved.CommitId);
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    /// <summary>
    /// <c>GET|HEAD /lfs-blobs/{sha256}?commit=&amp;expires=&amp;signature=</c>: the object store behind the
    /// redirect. A valid signature is enough (clients drop the token on redirects); a token also works.
    /// </summary>
    public static Task BlobAsync(HttpContext context, ServeServices services, string sha256)
    {
        var commit = HttpIo.Query(context, "commit");
        if (!services.Signer.Verify(BlobSubject(sha256, commit), HttpIo.Query(context, "expires"), HttpIo.Query(context, "signature")))
        {
            services.Auth.Require(context, AccessLevel.Read);
        }
        var size = ContentHashes.IsSha256(sha256) ? services.Store.Blobs.LfsSize(sha256) : null;
        // An object uploaded through Xet has no LFS blob: its bytes are rebuilt from its xorbs.
        var xetFile = size is null && ContentHashes.IsSha256(sha256) ? services.Xet.Metadata.FindFileBySha256(sha256) : null;
        size ??= xetFile?.Size;
        if (size is null) throw RegistryException.EntryNotFound(sha256, null);
        var headers = context.Response.Headers;
        headers.ETag = $"\"{sha256}\"";
        headers["X-Linked-Etag"] = $"\"{sha256}\"";
        headers["X-Linked-Size"] = size.Value.ToString(CultureInfo.InvariantCulture);
        // The Hub's CDN does not know the commit, but a client that follows the redirect on its metadata
        // request (same origin here) would lose it, so the signed URL carries it along.
        if (ContentHashes.IsSha1(commit)) headers["X-Repo-Commit"] = commit;
        return xetFile is not null
            ? XetFileResponse.SendAsync(context, services.Xet, xetFile)
            : RangeResponse.SendAsync(context, services.Store.Blobs.LfsPath(sha256), size.Value);
    }

    public static string SignedBlobUrl(ServeServices services, string baseUrl, string sha256, string? commit)
    {
        var query = commit is null ? "" : $"commit={commit}&";
        return $"{baseUrl}/lfs-blobs/{sha256}?{query}{services.Signer.Sign(BlobSubject(sha256, commit))}";
    }

    private static string BlobSubject(string sha256, string? commit) => $"{sha256}\n{commit}";
}
