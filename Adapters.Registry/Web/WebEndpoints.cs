using System.Text;
using Adapters.Registry.Endpoints;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Web;

/// <summary>
/// The registry's web page: <c>GET /</c> (search) and <c>GET /-/{type}/{repo}</c> (a repository). No Hub
/// route is <c>/</c> and no repository id starts with <c>-</c>, so these paths never shadow the Hub's.
/// Pages are server-rendered HTML with inline CSS and no script, sent with a Content-Security-Policy that
/// allows nothing else to load or run.
/// </summary>
internal static class WebEndpoints
{
    /// <summary>The first path segment of repository pages.</summary>
    public const string PagePrefix = "-";

    private const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: http:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    /// <summary>Whether the request is for the web page (decided on the raw path segments, before Hub routing).</summary>
    public static bool Handles(string method, string[] segments) =>
        (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) && (segments.Length == 0 || segments[0] == PagePrefix);

    public static async Task ServeAsync(HttpContext context, ServeServices services, string[] segments)
    {
        try
        {
            if (segments.Length == 0)
            {
                await WriteAsync(context, 200, SearchPage.Render(AdapterCatalog.Visible(context, services), CatalogSearch.From(context))).ConfigureAwait(false);
                return;
            }
            await RepositoryAsync(context, services, segments).ConfigureAwait(false);
        }
        catch (RegistryException error) when (!context.Response.HasStarted)
        {
            // A private repository the caller may not read is simply not there, as the Hub's pages answer.
            var status = error.StatusCode == 401 && error.ErrorCode == "RepoNotFound" ? 404 : error.StatusCode;
            var body = $"<h1>{status}</h1><p>{Html.Text(status == 404 ? "No such repository, or you may not read it." : error.Message)}</p><p><a href=\"/\">Search adapters</a></p>";
            await WriteAsync(context, status, Html.Page("Not available · Adapter registry", body)).ConfigureAwait(false);
        }
    }

    private static async Task RepositoryAsync(HttpContext context, ServeServices services, string[] segments)
    {
        // /-/{type}/{name} or /-/{type}/{namespace}/{name}
        var type = segments.Length is 3 or 4 ? Enum.GetValues<RepoType>().FirstOrDefault(t => t.ApiSegment() == segments[1], (RepoType)(-1)) : (RepoType)(-1);
        if (!Enum.IsDefined(type))
        {
            throw new RegistryException(404, null, $"{HttpIo.RawPath(context)} is not a page of this registry; repository pages are /-/models/<namespace>/<name>.");
        }
        var key = RepoKey.Parse(type, string.Join('/', segments.Skip(2)));
        services.RequireRead(context, key);
        var revision = context.Request.Query["revision"].FirstOrDefault() is { Length: > 0 } asked ? asked : RegistryStore.DefaultBranch;
        var resolved = services.Store.Resolve(key, revision);
        var facts = AdapterCatalog.ReadWithDocuments(services.Store.Blobs, resolved.Commit);
        var html = await RepoPage.RenderAsync(key, resolved, revision, facts, services.Store, services.Xet, HttpIo.BaseUrl(context), context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, 200, html).ConfigureAwait(false);
    }

    private static Task WriteAsync(HttpContext context, int status, string html)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        // Pages can list private repositories for a caller with a token: never cached on the way.
        response.Headers.CacheControl = "no-store";
        var bytes = Encoding.UTF8.GetBytes(html);
        response.ContentLength = bytes.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }
}
