using System.Net;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Endpoints;

/// <summary>Branches, tags, the refs listing and the commit history (<c>list_repo_refs</c>, <c>create_tag</c>, <c>list_repo_commits</c>).</summary>
internal static class RefEndpoints
{
    /// <summary>Commits per page of <c>/commits</c> unless the client asks for another <c>limit</c> (up to the registry's page size).</summary>
    public const int DefaultCommitPageSize = 50;

    /// <summary>
    /// <c>GET /api/{type}/{repo}/refs[?include_prs=1]</c>: <c>branches</c>, <c>converts</c> and <c>tags</c> are
    /// always present (Python indexes all three), <c>pullRequests</c> only when asked for.
    /// </summary>
    public static Task RefsAsync(HttpContext context, ServeServices services, RepoKey key)
    {
        services.RequireRead(context, key);
        var refs = services.Store.ReadRefs(key);
        object Ref(string name, string target, string fullName) => new { name, @ref = fullName, targetCommit = target };
        var body = new Dictionary<string, object?>
        {
            ["branches"] = refs.Where(r => !r.Key.StartsWith("refs/", StringComparison.Ordinal)).Select(r => Ref(r.Key, r.Value, "refs/heads/" + r.Key)).ToList(),
            ["converts"] = Array.Empty<object>(),
            ["tags"] = refs.Where(r => r.Key.StartsWith("refs/tags/", StringComparison.Ordinal)).Select(r => Ref(r.Key["refs/tags/".Length..], r.Value, r.Key)).ToList(),
        };
        if (HttpIo.QueryFlag(context, "include_prs"))
        {
            body["pullRequests"] = refs.Where(r => r.Key.StartsWith("refs/pr/", StringComparison.Ordinal)).Select(r => Ref(r.Key, r.Value, r.Key)).ToList();
        }
        return HttpIo.WriteJsonAsync(context, body);
    }

    /// <summary><c>POST</c> (create, optional <c>startingPoint</c>) or <c>DELETE</c> <c>/api/{type}/{repo}/branch/{branch}</c>.</summary>
    public static async Task BranchAsync(HttpContext context, ServeServices services, RepoKey key, string branch)
    {
        services.RequireWrite(context, key);
        if (HttpMethods.IsDelete(context.Request.Method))
        {
            await services.Store.DeleteBranchAsync(key, branch, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            var body = await HttpIo.ReadOptionalJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
            await services.Store.CreateBranchAsync(key, branch, HttpIo.String(body, "startingPoint"), context.RequestAborted).ConfigureAwait(false);
        }
        await HttpIo.WriteJsonAsync(context, new { }).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>POST /api/{type}/{repo}/tag/{rev}</c> with <c>{"tag": name, "message"?}</c> tags the revision (a
    /// branch, tag, or full or short commit id); <c>DELETE /api/{type}/{repo}/tag/{tag}</c> removes a tag.
    /// Duplicates are 409, unknown revisions and tags 404 RevisionNotFound. The annotation message is
    /// accepted but not kept: no Hub route returns it.
    /// </summary>
    public static async Task TagAsync(HttpContext context, ServeServices services, RepoKey key, string revisionOrTag)
    {
        services.RequireWrite(context, key);
        if (HttpMethods.IsDelete(context.Request.Method))
        {
            await services.Store.DeleteTagAsync(key, revisionOrTag, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
            var tag = HttpIo.String(body, "tag") ?? throw RegistryException.BadRequest("The request needs the new tag's name in 'tag'.");
            await services.Store.CreateTagAsync(key, revisionOrTag, tag, context.RequestAborted).ConfigureAwait(false);
        }
        await HttpIo.WriteJsonAsync(context, new { }).ConfigureAwait(false);
    }

    /// <summary><c>POST /api/{type}/{repo}/super-squash/{branch}</c> with <c>{"message": ...}</c>: the branch becomes one root commit.</summary>
    public static async Task SuperSquashAsync(HttpContext context, ServeServices services, RepoKey key, string branch)
    {
        var token = services.RequireWrite(context, key);
        var body = await HttpIo.ReadOptionalJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        var message = HttpIo.String(body, "message") is { Length: > 0 } given ? given : $"Super-squash branch '{branch}'";
        var commit = await services.Store.SuperSquashAsync(key, branch, message, services.AccountOf(token), context.RequestAborted).ConfigureAwait(false);
        await HttpIo.WriteJsonAsync(context, new { commitId = commit }).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>GET /api/{type}/{repo}/commits/{rev}[?limit=][&amp;expand[]=formatted]</c>: the history newest first as
    /// <c>{id, title, message, date, authors:[{user, avatar}]}</c>, paginated with <c>Link: rel="next"</c> and
    /// <c>X-Total-Count</c>; <c>formatted</c> adds HTML-escaped title and message.
    /// </summary>
    public static Task CommitsAsync(HttpContext context, ServeServices services, RepoKey key, string revision)
    {
        services.RequireRead(context, key);
        var resolved = services.Store.Resolve(key, revision);
        var history = services.Store.History(key, resolved.CommitId);
        var formatted = context.Request.Query["expand[]"].Concat(context.Request.Query["expand"]).Contains("formatted", StringComparer.Ordinal);
        var page = Pagination.Page(context, history, DefaultCommitPageSize, services.Options.PageSize);
        return HttpIo.WriteJsonAsync(context, page.Select(commit =>
        {
            var item = new Dictionary<string, object?>
            {
                ["id"] = commit.Id,
                ["title"] = commit.Title,
                ["message"] = commit.Description,
                ["date"] = HttpIo.Date(commit.Date),
                ["authors"] = new[] { new Dictionary<string, object?> { ["user"] = commit.Author ?? "local", ["avatar"] = "" } },
            };
            if (formatted)
            {
                item["formatted"] = new Dictionary<string, object?>
                {
                    ["title"] = WebUtility.HtmlEncode(commit.Title),
                    ["message"] = WebUtility.HtmlEncode(commit.Description),
                };
            }
            return item;
        }).ToList());
    }
}
