using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Adapters.Bench.Upload;

/// <summary>
/// The smallest Hub that accepts an LFS commit on loopback: preupload says "lfs", the batch answers a
/// basic upload URL, PUT bodies are read and discarded (optionally hashed), and the commit succeeds.
/// <c>/raw</c> takes a plain PUT for the curl baseline.
/// </summary>
internal sealed class LfsSinkServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LfsSinkServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    public static async Task<LfsSinkServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();

        app.MapPost("/api/models/{org}/{name}/preupload/{revision}", async (HttpContext context) =>
        {
            using var body = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body).ConfigureAwait(false);
            var files = body.RootElement.GetProperty("files").EnumerateArray()
                .Select(f => new { path = f.GetProperty("path").GetString(), uploadMode = "lfs", shouldIgnore = false }).ToList();
            return Results.Json(new { files, commitOid = new string('0', 40) });
        });
        app.MapPost("/{org}/{repo}/info/lfs/objects/batch", async (HttpContext context) =>
        {
            using var body = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body).ConfigureAwait(false);
            var baseUrl = $"{context.Request.Scheme}://{context.Request.Host}";
            var objects = body.RootElement.GetProperty("objects").EnumerateArray().Select(o => new
            {
                oid = o.GetProperty("oid").GetString(),
                size = o.GetProperty("size").GetInt64(),
                actions = new { upload = new { href = $"{baseUrl}/upload/{o.GetProperty("oid").GetString()}" } },
            }).ToList();
            return Results.Json(new { transfer = "basic", objects });
        });
        app.MapPut("/upload/{oid}", Drain);
        app.MapPut("/raw", Drain);
        app.MapPost("/api/models/{org}/{name}/commit/{revision}", async (HttpContext context) =>
        {
            await Drain(context).ConfigureAwait(false);
            return Results.Json(new { success = true, commitOid = new string('1', 40), commitUrl = "http://127.0.0.1/commit" });
        });

        await app.StartAsync().ConfigureAwait(false);
        var url = app.Urls.First();
        return new LfsSinkServer(app, url);
    }

    private static async Task Drain(HttpContext context)
    {
        var buffer = new byte[1 << 20];
        while (await context.Request.Body.ReadAsync(buffer).ConfigureAwait(false) > 0)
        {
        }
        context.Response.Headers.ETag = "\"" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)) + "\"";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
