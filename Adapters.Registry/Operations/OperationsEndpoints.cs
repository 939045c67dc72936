using System.Diagnostics;
using Adapters.Hub.Text;
using Adapters.Registry.Endpoints;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Operations;

/// <summary>
/// What operators call besides the Hub protocol: <c>GET /healthz</c> (200 when the metadata store answers a query
/// and the blob store takes a write, 503 naming what failed) and <c>GET /metrics</c> (Prometheus text). Neither needs
/// a token and neither shows a repository, path or credential. Every other request goes on to the router and is
/// measured on its way out.
/// </summary>
internal static class OperationsEndpoints
{
    public static async Task DispatchAsync(HttpContext context, ServeServices services)
    {
        var path = context.Request.Path.Value;
        var reads = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
        if (reads && path == "/healthz")
        {
            await HealthAsync(context, services).ConfigureAwait(false);
            return;
        }
        if (reads && path == "/metrics")
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await context.Response.WriteAsync(services.Metrics.Render(), context.RequestAborted).ConfigureAwait(false);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            await (services.Options.RequestLog is { } log ? RequestLog.DispatchLoggedAsync(context, services, log) : ServeRouter.DispatchAsync(context, services)).ConfigureAwait(false);
        }
        finally
        {
            var response = context.Response;
            var status = context.RequestAborted.IsCancellationRequested && !response.HasStarted ? 499 : response.StatusCode;
            // Bodies go out through send-file: the announced length is what was sent unless the client left early.
            var bytes = HttpMethods.IsHead(context.Request.Method) || context.RequestAborted.IsCancellationRequested ? 0 : response.ContentLength ?? 0;
            services.Metrics.Record(RouteLabel.Get(context), context.Request.Method, status, Stopwatch.GetElapsedTime(started), bytes);
        }
    }

    private static async Task HealthAsync(HttpContext context, ServeServices services)
    {
        var metadata = Check(() =>
        {
            services.Store.FindRepo(new RepoKey(RepoType.Model, "healthz/probe"));
            return Task.CompletedTask;
        });
        var blobs = Check(() => services.Store.Blobs.ProbeAsync(context.RequestAborted));
        var (metadataError, blobError) = (await metadata.ConfigureAwait(false), await blobs.ConfigureAwait(false));
        var healthy = metadataError is null && blobError is null;
        await HttpIo.WriteJsonAsync(context, new Dictionary<string, object?>
        {
            ["status"] = healthy ? "ok" : "failing",
            ["metadata"] = metadataError ?? "ok",
            ["blobs"] = blobError ?? "ok",
            ["mirror"] = services.Mirror is { } mirror ? (services.Options.Mirror!.Offline ? "offline" : "online") : null,
        }, healthy ? 200 : 503).ConfigureAwait(false);
    }

    /// <summary>Runs a check; null when it passed, else the failure's type and first line (no connection string is in either).</summary>
    private static async Task<string?> Check(Func<Task> check)
    {
        try
        {
            await Task.Run(check).ConfigureAwait(false);
            return null;
        }
        catch (Exception error)
        {
            return SafeText.OneLine($"{error.GetType().Name}: {error.Message}", 300);
        }
    }
}
