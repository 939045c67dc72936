using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Adapters.Registry.Tests.Backends;

/// <summary>
/// A load balancer for replica tests: a reverse proxy on a free loopback port that sends each request to the next
/// replica in turn (no stickiness), streaming bodies both ways and keeping the Host header, so a client suite run
/// through it sees several <c>serve</c> replicas as one registry, as behind a real load balancer.
/// </summary>
internal sealed class RoundRobinBalancer : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _http;
    private long _requests;

    private RoundRobinBalancer(WebApplication app, HttpClient http, Uri endpoint)
    {
        _app = app;
        _http = http;
        Endpoint = endpoint;
    }

    /// <summary>The balancer's address; clients use it as the registry's endpoint.</summary>
    public Uri Endpoint { get; }

    /// <summary>How many requests each replica answered, in the order of the replicas given.</summary>
    public long[] Answered { get; private set; } = [];

    public static async Task<RoundRobinBalancer> StartAsync(IReadOnlyList<Uri> replicas)
    {
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None, UseCookies = false })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        RoundRobinBalancer? self = null;
        app.Run(context => self!.ForwardAsync(context, replicas));
        await app.StartAsync();
        var address = app.Urls.First();
        self = new RoundRobinBalancer(app, http, new Uri(address.EndsWith('/') ? address : address + "/"))
        {
            Answered = new long[replicas.Count],
        };
        return self;
    }

    private async Task ForwardAsync(HttpContext context, IReadOnlyList<Uri> replicas)
    {
        var index = (int)((Interlocked.Increment(ref _requests) - 1) % replicas.Count);
        Interlocked.Increment(ref Answered[index]);
        var request = context.Request;
        var target = new Uri(replicas[index], request.Path.ToUriComponent() + request.QueryString.ToUriComponent());
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), target);
        var hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
        if (hasBody) forward.Content = new StreamContent(request.Body);
        foreach (var header in request.Headers)
        {
            if (HopByHop.Contains(header.Key) || header.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)) continue;
            if (!forward.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray()))
                forward.Content?.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray());
        }
        // The replicas build absolute URLs (LFS actions, CAS addresses) from the Host they were asked on.
        forward.Headers.Host = request.Host.Value;

        using var response = await _http.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (HopByHop.Contains(header.Key)) continue;
            context.Response.Headers[header.Key] = header.Value.ToArray();
        }
        if (HttpMethods.IsHead(request.Method) || response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotModified) return;
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }
}
