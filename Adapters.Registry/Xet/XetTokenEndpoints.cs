using Adapters.Registry.Auth;
using Adapters.Registry.Endpoints;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Xet;

/// <summary>
/// <c>GET /api/{models|datasets|spaces}/{repo}/xet-read-token/{rev}</c> and <c>.../xet-write-token/{rev}</c>: a
/// short-lived CAS token for that repository (read, or read and write), with the CAS URL and its expiry, as the Hub
/// answers them (<c>{accessToken, exp, casUrl}</c>). The caller's Hub token must allow the same access.
/// </summary>
internal static class XetTokenEndpoints
{
    public const string ReadTokenSegment = "xet-read-token";
    public const string WriteTokenSegment = "xet-write-token";

    /// <summary>
    /// Matches <c>api/{type}/{id...}/xet-(read|write)-token/{rev}</c> in decoded segments; the id is one or two segments.
    /// </summary>
    public static bool TryMatch(string[] s, out RepoKey key, out string revision, out AccessLevel level)
    {
        key = null!;
        revision = "";
        level = AccessLevel.Read;
        if (s.Length is not (5 or 6) || s[0] != "api" || s[1] is not ("models" or "datasets" or "spaces")) return false;
        var tokenSegment = s[^2];
        if (tokenSegment is not (ReadTokenSegment or WriteTokenSegment)) return false;
        key = RepoKey.Parse(RepoTypeExtensions.Parse(s[1]), string.Join('/', s[2..^2]));
        revision = s[^1];
        level = tokenSegment == WriteTokenSegment ? AccessLevel.Write : AccessLevel.Read;
        return true;
    }

    public static Task TokenAsync(HttpContext context, ServeServices services, RepoKey key, string revision, AccessLevel level)
    {
        if (level == AccessLevel.Write) services.RequireWrite(context, key);
        else
        {
            services.RequireRead(context, key);
            services.Store.Resolve(key, revision);
        }
        var (token, expires) = services.XetTokens.Issue(key, level);
        return HttpIo.WriteJsonAsync(context, new
        {
            accessToken = token,
            exp = expires.ToUnixTimeSeconds(),
            casUrl = CasUrl(context),
        });
    }

    /// <summary>Where the CAS API lives: under this registry's own origin.</summary>
    public static string CasUrl(HttpContext context) => HttpIo.BaseUrl(context) + "/" + XetCasEndpoints.CasSegment;

    /// <summary>The path (from the origin) of a token route for <paramref name="key"/> at <paramref name="revision"/>.</summary>
    public static string TokenPath(RepoKey key, string revision, AccessLevel level) =>
        $"api/{key.Type.ApiSegment()}/{key.Id}/{(level == AccessLevel.Write ? WriteTokenSegment : ReadTokenSegment)}/{Uri.EscapeDataString(revision)}";
}
