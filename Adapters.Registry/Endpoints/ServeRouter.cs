using Adapters.Hub.Routing;
using Adapters.Registry.Mirror;
using Adapters.Registry.Operations;
using Adapters.Registry.Storage;
using Adapters.Registry.Xet;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Endpoints;

/// <summary>
/// Maps the Hub's URL space onto the endpoints through the client's own route table (<see cref="HubRoutes"/>).
/// The raw path is split and each segment decoded on its own, so an encoded revision (<c>refs%2Fpr%2F1</c>)
/// stays one segment. Every <see cref="RegistryException"/> becomes the Hub's error answer.
/// </summary>
internal static class ServeRouter
{
    /// <summary>
    /// The handler of every route in <see cref="HubRoutes.All"/>, the table <see cref="HubClient"/> builds its
    /// URLs from; a route without a handler here is a startup error, not a 404 at run time.
    /// </summary>
    private static readonly Dictionary<HubRoute, Handler> s_handlers = CheckedHandlers(new()
    {
        [HubRoutes.WhoAmI] = (c, s, _, _) => RepoEndpoints.WhoAmIAsync(c, s),
        [HubRoutes.ValidateYaml] = (c, s, _, _) => RepoEndpoints.ValidateYamlAsync(c, s),
        [HubRoutes.CreateRepo] = (c, s, _, _) => RepoEndpoints.CreateAsync(c, s),
        [HubRoutes.DeleteRepo] = (c, s, _, _) => RepoEndpoints.DeleteAsync(c, s),
        [HubRoutes.ListRepos] = (c, s, m, _) => RepoEndpoints.ListAsync(c, s, m.RepoType),
        [HubRoutes.RepoInfo] = (c, s, _, k) => RepoEndpoints.InfoAsync(c, s, k!, RegistryStore.DefaultBranch),
        [HubRoutes.RepoInfoAtRevision] = (c, s, m, k) => RepoEndpoints.InfoAsync(c, s, k!, m.Revision!),
        [HubRoutes.Tree] = (c, s, m, k) => RepoEndpoints.TreeAsync(c, s, k!, m.Revision!, ""),
        [HubRoutes.TreeAtPath] = (c, s, m, k) => RepoEndpoints.TreeAsync(c, s, k!, m.Revision!, m.Path!),
        [HubRoutes.PathsInfo] = (c, s, m, k) => RepoEndpoints.PathsInfoAsync(c, s, k!, m.Revision!),
        [HubRoutes.Refs] = (c, s, _, k) => RefEndpoints.RefsAsync(c, s, k!),
        [HubRoutes.CreateBranch] = (c, s, m, k) => RefEndpoints.BranchAsync(c, s, k!, m.Revision!),
        [HubRoutes.DeleteBranch] = (c, s, m, k) => RefEndpoints.BranchAsync(c, s, k!, m.Revision!),
        [HubRoutes.CreateTag] = (c, s, m, k) => RefEndpoints.TagAsync(c, s, k!, m.Revision!),
        [HubRoutes.DeleteTag] = (c, s, m, k) => RefEndpoints.TagAsync(c, s, k!, m.Revision!),
        [HubRoutes.Commits] = (c, s, m, k) => RefEndpoints.CommitsAsync(c, s, k!, m.Revision!),
        [HubRoutes.SuperSquash] = (c, s, m, k) => RefEndpoints.SuperSquashAsync(c, s, k!, m.Revision!),
        [HubRoutes.Preupload] = (c, s, m, k) => CommitEndpoints.PreuploadAsync(c, s, k!, m.Revision!),
        [HubRoutes.Commit] = (c, s, m, k) => CommitEndpoints.CommitAsync(c, s, k!, m.Revision!),
        [HubRoutes.ListDiscussions] = (c, s, _, k) => DiscussionEndpoints.ListAsync(c, s, k!),
        [HubRoutes.CreateDiscussion] = (c, s, _, k) => DiscussionEndpoints.CreateAsync(c, s, k!),
        [HubRoutes.DiscussionDetails] = (c, s, m, k) => DiscussionEndpoints.DetailsAsync(c, s, k!, DiscussionEndpoints.Number(m.Number!)),
        [HubRoutes.CommentDiscussion] = (c, s, m, k) => DiscussionEndpoints.CommentAsync(c, s, k!, DiscussionEndpoints.Number(m.Number!)),
        [HubRoutes.RenameDiscussion] = (c, s, m, k) => DiscussionEndpoints.RenameAsync(c, s, k!, DiscussionEndpoints.Number(m.Number!)),
        [HubRoutes.DiscussionStatus] = (c, s, m, k) => DiscussionEndpoints.StatusAsync(c, s, k!, DiscussionEndpoints.Number(m.Number!)),
        [HubRoutes.MergePullRequest] = (c, s, m, k) => DiscussionEndpoints.MergeAsync(c, s, k!, DiscussionEndpoints.Number(m.Number!)),
        [HubRoutes.EditComment] = (c, s, m, k) => DiscussionEndpoints.EditCommentAsync(c, s, k!, DiscussionEndpoints.Number(m.Number!), m.CommentId!, hide: false),
        [HubRoutes.HideComment] = (c, s, m, k) => DiscussionEndpoints.EditCommentAsync(c, s, k!, DiscussionEndpoints.Number(m.Number!), m.CommentId!, hide: true),
        [HubRoutes.LfsBatch] = (c, s, _, k) => LfsEndpoints.BatchAsync(c, s, k!),
        [HubRoutes.LfsVerify] = (c, s, _, k) => LfsEndpoints.VerifyAsync(c, s, k!),
        [HubRoutes.ResolveFile] = (c, s, m, k) => FileEndpoints.ResolveAsync(c, s, k!, m.Revision!, m.Path!, raw: false),
        [HubRoutes.RawFile] = (c, s, m, k) => FileEndpoints.ResolveAsync(c, s, k!, m.Revision!, m.Path!, raw: true),
    });

    /// <summary>A route's handler; <paramref name="key"/> is null for routes that name no repository.</summary>
    private delegate Task Handler(HttpContext context, ServeServices services, HubRouteMatch match, RepoKey? key);


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

        // The web page (/ and /-/...): paths no Hub route and no repository id can take.
        if (Web.WebEndpoints.Handles(method, s)) return Web.WebEndpoints.ServeAsync(context, services, s);

        // The URLs this registry signs and hands out itself (LFS downloads and uploads): not Hub routes.
        if (s.Length >= 2 && s[0] is "lfs-blobs" or "lfs-uploads") RouteLabel.Set(context, s[0]);
        if (s.Length == 2 && s[0] == "lfs-blobs" && Is("GET", "HEAD")) return FileEndpoints.BlobAsync(context, services, s[1]);
        if (s.Length == 2 && s[0] == "lfs-uploads" && Is("PUT")) return LfsEndpoints.PutObjectAsync(context, services, s[1]);
        if (s.Length == 2 && s[0] == "lfs-uploads" && Is("POST")) return LfsEndpoints.CompleteAsync(context, services, s[1]);
        if (s.Length == 3 && s[0] == "lfs-uploads" && Is("PUT")) return LfsEndpoints.PutPartAsync(context, services, s[1], s[2]);
        // Xet: the CAS API under /xet-cas and the token routes (not in the client's route table, which speaks LFS).
        if (XetCasEndpoints.TryRoute(context, services, s, out var cas)) return cas;
        if (Is("GET") && XetTokenEndpoints.TryMatch(s, out var xetRepo, out var xetRevision, out var xetLevel)) return XetTokenEndpoints.TokenAsync(context, services, xetRepo, xetRevision, xetLevel);

        var match = Choose(HubRoutes.MatchAll(method, s), services) ?? throw NotFound(context);
        RouteLabel.Set(context, match.Route.Name);
        var key = match.RepoId is { } repoId ? RepoKey.Parse(match.RepoType, repoId) : null;
        var handler = s_handlers[match.Route];
        // Mirror mode: what a read route needs is brought from upstream first (Mirror/).
        return services.Mirror is { } mirror && key is not null
            ? MirrorRoutes.ServeThroughAsync(context, services, mirror, match, key, () => handler(context, services, match, key))
            : handler(context, services, match, key);
    }

    /// <summary>
    /// Picks one reading of a path that fits several (a repository id is one or two segments, so
    /// <c>gpt2/refs</c> is the refs of <c>gpt2</c> or the info of <c>gpt2/refs</c>): a valid id naming an existing
    /// repository first, then any valid id, then the rest (which answer 400); among equals the two-segment
    /// id, then the table's order.
    /// </summary>
    private static HubRouteMatch? Choose(IReadOnlyList<HubRouteMatch> candidates, ServeServices services)
    {
        if (candidates.Count <= 1) return candidates.FirstOrDefault();
        int Rank(HubRouteMatch match)
        {
            if (match.RepoId is not { } id) return 0;
            if (!id.Split('/').All(RepoKey.IsValidSegment)) return 2;
            return services.Store.FindRepo(new RepoKey(match.RepoType, id)) is not null ? 0 : 1;
        }
        return candidates
            .Select((match, order) => (match, order))
            .OrderBy(c => Rank(c.match))
            .ThenByDescending(c => c.match.RepoId?.Count(ch => ch == '/') ?? 0)
            .ThenBy(c => c.order)
            .First().match;
    }

    private static Dictionary<HubRoute, Handler> CheckedHandlers(Dictionary<HubRoute, Handler> handlers)
    {
        var missing = HubRoutes.All.Where(r => !handlers.ContainsKey(r)).Select(r => r.ToString()).ToList();
        return missing.Count == 0 ? handlers : throw new InvalidOperationException($"serve has no handler for: {string.Join(", ", missing)}.");
    }

    private static RegistryException NotFound(HttpContext context) =>
        new(404, null, $"{context.Request.Method} {HttpIo.RawPath(context)} is not a route of this registry.");
}
