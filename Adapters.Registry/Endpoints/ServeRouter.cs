using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Endpoints;

/// <summary>
/// Maps the Hub's URL space onto the endpoints. Repository ids are one or two segments and the revision
/// is one percent-encoded segment, which fixed route templates cannot express, so the raw path is split
/// here. Every <see cref="RegistryException"/> becomes the Hub's error answer.
/// </summary>
internal static class ServeRouter
{
    /// <summary>Words that end a repository id in <c>/api/{type}/...</c> routes.</summary>
    private static readonly HashSet<string> s_apiActions = new(StringComparer.Ordinal)
    {
        "revision", "tree", "refs", "preupload", "commit", "commits", "branch", "tag", "paths-info", "discussions", "super-squash",
    };

    public static async Task DispatchAsync(HttpContext context, ServeServices services)
    {
        try
        {
            await RouteAsync(context, services, HttpIo.RawSegments(context)).ConfigureAwait(false);
        }
        catch (RegistryException error) when (!context.Response.HasStarted)
        {
            await HttpIo.WriteErrorAsync(context, error).ConfigureAwait(false);
        }
        catch (BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            var limit = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            await HttpIo.WriteErrorAsync(context, RegistryException.TooLarge($"The body of {context.Request.Method} {HttpIo.RawPath(context)}", limit ?? 0)).ConfigureAwait(false);
        }
        catch (BadHttpRequestException) when (context.RequestAborted.IsCancellationRequested || !context.Response.HasStarted)
        {
            // The client went away mid-body (an abandoned upload) or sent it too slowly: nothing was stored.
            if (!context.Response.HasStarted) context.Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (!context.Response.HasStarted && ex is not OperationCanceledException)
        {
            // Still the Hub's error shape, so clients report the cause instead of a bare 500.
            await HttpIo.WriteErrorAsync(context, new RegistryException(500, null, $"Internal error in the registry: {ex.GetType().Name}: {ex.Message}")).ConfigureAwait(false);
        }
    }

    private static Task RouteAsync(HttpContext context, ServeServices services, string[] s)
    {
        var method = context.Request.Method;
        bool Is(params string[] methods) => methods.Any(m => string.Equals(m, method, StringComparison.OrdinalIgnoreCase));

        if (s.Length >= 1 && s[0] == "api")
        {
            if (s.Length == 2 && s[1] == "whoami-v2" && Is("GET")) return RepoEndpoints.WhoAmIAsync(context, services);
            if (s.Length == 2 && s[1] == "validate-yaml" && Is("POST")) return RepoEndpoints.ValidateYamlAsync(context, services);
            if (s.Length == 3 && s[1] == "repos" && s[2] == "create" && Is("POST")) return RepoEndpoints.CreateAsync(context, services);
            if (s.Length == 3 && s[1] == "repos" && s[2] == "delete" && Is("DELETE")) return RepoEndpoints.DeleteAsync(context, services);
            if (s.Length >= 2 && TryType(s[1], out var type))
            {
                if (s.Length == 2 && Is("GET", "HEAD")) return RepoEndpoints.ListAsync(context, services, type);
                var rest = s[2..];
                var idLength = IdLength(rest, type, services);
                var key = RepoKey.Parse(type, string.Join('/', rest[..idLength]));
                var action = rest[idLength..];
                if (action.Length == 0 && Is("GET", "HEAD")) return RepoEndpoints.InfoAsync(context, services, key, RegistryStore.DefaultBranch);
                if (action.Length == 2 && action[0] == "revision" && Is("GET", "HEAD")) return RepoEndpoints.InfoAsync(context, services, key, action[1]);
                if (action.Length >= 2 && action[0] == "tree" && Is("GET")) return RepoEndpoints.TreeAsync(context, services, key, action[1], string.Join('/', action[2..]));
                if (action.Length == 2 && action[0] == "paths-info" && Is("POST")) return RepoEndpoints.PathsInfoAsync(context, services, key, action[1]);
                if (action.Length == 1 && action[0] == "refs" && Is("GET")) return RefEndpoints.RefsAsync(context, services, key);
                if (action.Length == 2 && action[0] == "branch" && Is("POST", "DELETE")) return RefEndpoints.BranchAsync(context, services, key, action[1]);
                if (action.Length == 2 && action[0] == "preupload" && Is("POST")) return CommitEndpoints.PreuploadAsync(context, services, key, action[1]);
                if (action.Length == 2 && action[0] == "commit" && Is("POST")) return CommitEndpoints.CommitAsync(context, services, key, action[1]);
                if (action.Length == 2 && action[0] == "tag" && Is("POST", "DELETE")) return RefEndpoints.TagAsync(context, services, key, action[1]);
                if (action.Length is 1 or 2 && action[0] == "commits" && Is("GET")) return RefEndpoints.CommitsAsync(context, services, key, action.Length == 2 ? action[1] : RegistryStore.DefaultBranch);
                if (action.Length == 2 && action[0] == "super-squash" && Is("POST")) return RefEndpoints.SuperSquashAsync(context, services, key, action[1]);
                if (action.Length >= 1 && action[0] == "discussions")
                {
                    return DiscussionEndpoints.RouteAsync(context, services, key, action[1..]);
                }
            }
            throw NotFound(context);
        }

        if (s.Length == 2 && s[0] == "lfs-blobs" && Is("GET", "HEAD")) return FileEndpoints.BlobAsync(context, services, s[1]);
        if (s.Length == 2 && s[0] == "lfs-uploads" && Is("PUT")) return LfsEndpoints.PutObjectAsync(context, services, s[1]);
        if (s.Length == 2 && s[0] == "lfs-uploads" && Is("POST")) return LfsEndpoints.CompleteAsync(context, services, s[1]);
        if (s.Length == 3 && s[0] == "lfs-uploads" && Is("PUT")) return LfsEndpoints.PutPartAsync(context, services, s[1], s[2]);

        var repoType = RepoType.Model;
        var segments = s;
        if (s.Length >= 1 && s[0] is "datasets" or "spaces")
        {
            repoType = RepoTypeExtensions.Parse(s[0]);
            segments = s[1..];
        }

        // {repo}.git/info/lfs/objects/batch|verify
        if (segments.Length is 5 or 6 && segments[^4] == "info" && segments[^3] == "lfs" && segments[^2] == "objects"
            && segments[^5].EndsWith(".git", StringComparison.Ordinal) && Is("POST"))
        {
            var idParts = segments[..^4];
            idParts[^1] = idParts[^1][..^4];
            var key = RepoKey.Parse(repoType, string.Join('/', idParts));
            if (segments[^1] == "batch") return LfsEndpoints.BatchAsync(context, services, key);
            if (segments[^1] == "verify") return LfsEndpoints.VerifyAsync(context, services, key);
        }

        // {repo}/resolve|raw/{rev}/{path}
        for (var idLength = 1; idLength <= 2 && idLength + 2 < segments.Length; idLength++)
        {
            if (segments[idLength] is "resolve" or "raw" && Is("GET", "HEAD"))
            {
                var key = RepoKey.Parse(repoType, string.Join('/', segments[..idLength]));
                var path = string.Join('/', segments[(idLength + 2)..]);
                return FileEndpoints.ResolveAsync(context, services, key, segments[idLength + 1], path, raw: segments[idLength] == "raw");
            }
        }
        throw NotFound(context);
    }

    /// <summary>
    /// How many segments of <paramref name="rest"/> name the repository: one (<c>gpt2/refs</c>) or two
    /// (<c>me/model/refs</c>). When both readings fit the URL, the one naming an existing repository wins.
    /// </summary>
    private static int IdLength(string[] rest, RepoType type, ServeServices services)
    {
        var two = rest.Length >= 2 && RepoKey.IsValidSegment(rest[0]) && RepoKey.IsValidSegment(rest[1]) && (rest.Length == 2 || s_apiActions.Contains(rest[2]));
        var one = rest.Length == 1 || (rest.Length >= 2 && s_apiActions.Contains(rest[1]));
        if (two && one)
        {
            return services.Store.FindRepo(new RepoKey(type, rest[0])) is not null && services.Store.FindRepo(new RepoKey(type, $"{rest[0]}/{rest[1]}")) is null ? 1 : 2;
        }
        return one ? 1 : rest.Length >= 2 ? 2 : 1;
    }

    private static bool TryType(string segment, out RepoType type)
    {
        type = RepoType.Model;
        if (segment is not ("models" or "datasets" or "spaces")) return false;
        type = RepoTypeExtensions.Parse(segment);
        return true;
    }

    private static RegistryException NotFound(HttpContext context) =>
        new(404, null, $"{context.Request.Method} {HttpIo.RawPath(context)} is not a route of this registry.");
}
