using System.Globalization;
using System.Text.Json;
using Adapters.Registry.Auth;
using Adapters.Registry.Endpoints;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Xet;

/// <summary>
/// The LFS batch's <c>xet</c> transfer, chosen for uploads whenever the client offers it: objects the repository
/// already has need no action; every other object gets an upload action whose <c>href</c> is the write-token route
/// and whose headers carry the CAS URL, a write token and its expiry (what <c>@huggingface/hub</c> and
/// <c>huggingface_hub</c> read). The client then uploads xorbs and shards and commits the files by SHA-256.
/// </summary>
internal static class XetLfsTransfer
{
    public const string Name = "xet";

    /// <summary>The size of an object the repository can commit: an LFS blob, or a Xet file uploaded for it; null when neither.</summary>
    public static long? StoredSize(ServeServices services, RepoKey key, string sha256) =>
        services.Store.Blobs.LfsSize(sha256) ?? services.Xet.Metadata.FindFileForRepo(sha256, key)?.Size;

    public static Dictionary<string, object?> UploadAction(HttpContext context, ServeServices services, RepoKey key, JsonElement body)
    {
        var revision = body.TryGetProperty("ref", out var reference) && HttpIo.String(reference, "name") is { Length: > 0 } name ? name : RegistryStore.DefaultBranch;
        var (token, expires) = services.XetTokens.Issue(key, AccessLevel.Write);
        var header = new Dictionary<string, string>
        {
            ["X-Xet-Cas-Url"] = XetTokenEndpoints.CasUrl(context),
            ["X-Xet-Access-Token"] = token,
            ["X-Xet-Token-Expiration"] = expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["X-Xet-Session-Id"] = Guid.NewGuid().ToString("N"),
        };
        return new Dictionary<string, object?>
        {
            ["upload"] = new
            {
                href = $"{HttpIo.BaseUrl(context)}/{XetTokenEndpoints.TokenPath(key, revision, AccessLevel.Write)}",
                header,
                expires_in = (int)(expires - DateTimeOffset.UtcNow).TotalSeconds,
            },
        };
    }
}
