using System.Globalization;
using Adapters.Registry.Auth;
using Adapters.Registry.Endpoints;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Xet;

/// <summary>
/// What <c>/resolve/</c> adds for a Xet-backed file, as the Hub does: <c>X-Xet-Hash</c>, a <c>Link</c> header with
/// the reconstruction URL (<c>rel="xet-reconstruction-info"</c>) and the read-token route (<c>rel="xet-auth"</c>),
/// and, for a client that accepts <c>application/vnd.xet-fileinfo+json</c>, a JSON file-info answer instead of the
/// redirect (Xet-aware clients then download through the CAS API). Everyone else follows the redirect to plain bytes.
/// </summary>
internal static class XetDownloads
{
    public const string FileInfoMediaType = "application/vnd.xet-fileinfo+json";

    public static void AddHeaders(HttpContext context, RepoKey key, string commitId, string xetHash)
    {
        var baseUrl = HttpIo.BaseUrl(context);
        var headers = context.Response.Headers;
        headers["X-Xet-Hash"] = xetHash;
        headers["X-Xet-Refresh-Route"] = "/" + XetTokenEndpoints.TokenPath(key, commitId, AccessLevel.Read);
        headers.Link = $"<{ReconstructionUrl(context, xetHash)}>; rel=\"xet-reconstruction-info\", <{baseUrl}/{XetTokenEndpoints.TokenPath(key, commitId, AccessLevel.Read)}>; rel=\"xet-auth\"";
    }

    /// <summary>Whether the client asked for the Xet file info (the JS client sends it in <c>Accept</c>).</summary>
    public static bool WantsFileInfo(HttpContext context) =>
        context.Request.Headers.Accept.Any(a => a is not null && a.Contains(FileInfoMediaType, StringComparison.OrdinalIgnoreCase));

    /// <summary>200 with the file info; the size and ETag in the headers the LFS redirect would carry.</summary>
    public static Task FileInfoAsync(HttpContext context, RepoKey key, string commitId, FileRecord file)
    {
        var headers = context.Response.Headers;
        headers.ETag = $"\"{file.Oid}\"";
        headers["X-Linked-Etag"] = $"\"{file.Oid}\"";
        headers["X-Linked-Size"] = file.Size.ToString(CultureInfo.InvariantCulture);
        return HttpIo.WriteJsonAsync(context, new
        {
            hash = file.XetHash,
            refreshUrl = $"{HttpIo.BaseUrl(context)}/{XetTokenEndpoints.TokenPath(key, commitId, AccessLevel.Read)}",
            reconstructionUrl = ReconstructionUrl(context, file.XetHash!),
            etag = file.Oid,
            size = file.Size,
        }, contentType: FileInfoMediaType);
    }

    private static string ReconstructionUrl(HttpContext context, string xetHash) =>
        $"{XetTokenEndpoints.CasUrl(context)}/v1/reconstructions/{xetHash}";
}
