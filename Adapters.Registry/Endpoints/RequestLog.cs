using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Adapters.Registry.Endpoints;

/// <summary>
/// <c>serve -v</c>: one line per request with method, path, status and time. The query string is left out
/// (presigned URLs carry signatures there) and an upload session id in the path is shortened, because it
/// is the upload's credential; the <c>Authorization</c> header is never read here.
/// </summary>
internal static partial class RequestLog
{
    public static async Task DispatchLoggedAsync(HttpContext context, ServeServices services, ILogger log)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await ServeRouter.DispatchAsync(context, services).ConfigureAwait(false);
        }
        finally
        {
            var status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted ? 499 : context.Response.StatusCode;
            Served(log, context.Request.Method, RedactedPath(context), status, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>The raw path with the secret part of upload URLs masked and anything unprintable escaped.</summary>
    public static string RedactedPath(HttpContext context)
    {
        var segments = HttpIo.RawPath(context).Split('/');
        for (var i = 1; i + 1 < segments.Length; i++)
        {
            if (segments[i] == "lfs-uploads" && segments[i + 1].Length > 6) segments[i + 1] = segments[i + 1][..6] + "***";
        }
        var path = string.Join('/', segments);
        if (path.Length > 300) path = path[..300] + "...";
        return string.Concat(path.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:x4}"));
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "{Method} {Path} {Status} {ElapsedMs:0.0} ms")]
    private static partial void Served(ILogger logger, string method, string path, int status, double elapsedMs);
}
