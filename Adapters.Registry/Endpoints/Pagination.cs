using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Adapters.Registry.Endpoints;

/// <summary>
/// Cursor pagination as the Hub does it: a page of items and, when more follow, an RFC 5988
/// <c>Link: &lt;same URL with cursor=...&gt;; rel="next"</c> that clients follow verbatim.
/// </summary>
internal static class Pagination
{
    public static IReadOnlyList<T> Page<T>(HttpContext context, IReadOnlyList<T> items, int pageSize) => Page(context, items, pageSize, pageSize);

    /// <summary>A page of <paramref name="defaultSize"/> items, or of the client's <c>limit</c> up to <paramref name="maxSize"/>.</summary>
    public static IReadOnlyList<T> Page<T>(HttpContext context, IReadOnlyList<T> items, int defaultSize, int maxSize)
    {
        var size = Math.Min(defaultSize, maxSize);
        if (HttpIo.Query(context, "limit") is { } limitText && int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit > 0)
        {
            size = Math.Min(limit, maxSize);
        }
        var start = 0;
        if (HttpIo.Query(context, "cursor") is { } cursor)
        {
            try
            {
                start = int.Parse(Encoding.ASCII.GetString(WebEncoders.Base64UrlDecode(cursor)), NumberStyles.None, CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is FormatException or OverflowException)
            {
                throw RegistryException.BadRequest($"'cursor={cursor}' is not a cursor this server handed out.");
            }
        }
        var page = items.Skip(start).Take(size).ToList();
        var next = start + page.Count;
        if (next < items.Count)
        {
            var query = QueryHelpers.ParseQuery(context.Request.QueryString.Value)
                .Where(q => q.Key != "cursor")
                .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
                .Append(new KeyValuePair<string, string?>("cursor", WebEncoders.Base64UrlEncode(Encoding.ASCII.GetBytes(next.ToString(CultureInfo.InvariantCulture)))));
            var url = QueryHelpers.AddQueryString(HttpIo.BaseUrl(context) + HttpIo.RawPath(context), query);
            context.Response.Headers.Link = $"<{url}>; rel=\"next\"";
        }
        context.Response.Headers["X-Total-Count"] = items.Count.ToString(CultureInfo.InvariantCulture);
        return page;
    }
}
