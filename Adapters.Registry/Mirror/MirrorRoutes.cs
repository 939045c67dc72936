using Adapters.Hub.Routing;
using Adapters.Registry.Endpoints;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Mirror;

/// <summary>
/// Which Hub routes read a repository (and so may be answered from upstream in mirror mode) and what each needs:
/// the revision to resolve and, for file routes, the file. Writes, discussions and listings are answered from what
/// this registry holds only.
/// </summary>
internal static class MirrorRoutes
{
    /// <summary>The revision and file a read route needs, or null for a route the mirror leaves alone.</summary>
    public static (string Revision, string? Path)? Needs(HubRouteMatch match, string method)
    {
        var reads = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        var route = match.Route;
        if (route == HubRoutes.RepoInfo || route == HubRoutes.Refs) return reads ? (RegistryStore.DefaultBranch, null) : null;
        if (route == HubRoutes.RepoInfoAtRevision || route == HubRoutes.Tree || route == HubRoutes.TreeAtPath || route == HubRoutes.Commits)
        {
            return reads ? (match.Revision!, null) : null;
        }
        if (route == HubRoutes.PathsInfo) return (match.Revision!, null);
        if (route == HubRoutes.ResolveFile || route == HubRoutes.RawFile) return reads ? (match.Revision!, match.Path) : null;
        return null;
    }

    /// <summary>Prepares what the route needs from upstream, then runs its handler; a stale answer says so in <c>X-Mirror-Stale</c>.</summary>
    /// <remarks>
    /// On a registry with tokens, only callers with a valid token make the mirror go upstream; anonymous callers
    /// read what is cached (and public) like any other repository, so they cannot make it fetch on their behalf.
    /// </remarks>
    public static async Task ServeThroughAsync(HttpContext context, ServeServices services, UpstreamMirror mirror, HubRouteMatch match, RepoKey key, Func<Task> handler)
    {
        var mayFetch = services.Auth.IsOpen || services.Auth.Identify(context) is not null;
        if (mayFetch && Needs(match, context.Request.Method) is { } needs)
        {
            var stale = await mirror.PrepareAsync(key, needs.Revision, needs.Path, needsContent: needs.Path is not null, allRefs: match.Route == HubRoutes.Refs, context.RequestAborted).ConfigureAwait(false);
            if (stale) context.Response.Headers["X-Mirror-Stale"] = "1";
        }
        await handler().ConfigureAwait(false);
    }
}
