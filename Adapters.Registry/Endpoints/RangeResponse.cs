using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Endpoints;

/// <summary>
/// Sends a stored file with single-range support (<c>bytes=a-b</c>, <c>bytes=a-</c>, <c>bytes=-n</c>):
/// 206 with <c>Content-Range</c>, 416 when the range starts past the end, and the whole file for
/// anything else. The body goes out through the server's send-file path, without copying through managed buffers.
/// </summary>
internal static class RangeResponse
{
    public static async Task SendAsync(HttpContext context, string path, long length, string contentType = "application/octet-stream")
    {
        if (!TryBegin(context, length, contentType, out var offset, out var count)) return;
        await context.Response.SendFileAsync(path, offset, count, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Answers the status and headers for a body of <paramref name="length"/> bytes under the request's range, and
    /// says which bytes to send; false when no body follows (416, HEAD, or nothing to send).
    /// </summary>
    internal static bool TryBegin(HttpContext context, long length, string contentType, out long offset, out long count)
    {
        var response = context.Response;
        response.Headers.AcceptRanges = "bytes";
        response.ContentType = contentType;
        offset = 0;
        count = length;
        // An empty file has no byte to point at; the whole (empty) body is the only sensible answer.
        if (length > 0 && TryParseRange(context.Request.Headers.Range.ToString(), length, out var from, out var to, out var unsatisfiable))
        {
            if (unsatisfiable)
            {
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{length}";
                response.ContentLength = 0;
                return false;
            }
            offset = from;
            count = to - from + 1;
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {from}-{to}/{length}");
        }
        else
        {
            response.StatusCode = StatusCodes.Status200OK;
        }
        response.ContentLength = count;
        return !HttpMethods.IsHead(context.Request.Method) && count != 0;
    }

    /// <summary>Parses one byte range; false means "no usable range, send everything".</summary>
    internal static bool TryParseRange(string header, long length, out long from, out long to, out bool unsatisfiable)
    {
        from = to = 0;
        unsatisfiable = false;
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return false;
        var spec = header["bytes=".Length..].Trim();
        if (spec.Contains(',', StringComparison.Ordinal)) return false;
        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0) return false;
        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix) || suffix == 0) return false;
            from = Math.Max(0, length - suffix);
            to = length - 1;
            return true;
        }
        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out from)) return false;
        if (last.Length == 0) to = length - 1;
        else if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out to) || to < from) return false;
        if (from >= length) { unsatisfiable = true; return true; }
        to = Math.Min(to, length - 1);
        return true;
    }
}
