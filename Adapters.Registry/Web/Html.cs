using Adapters.Registry.Storage;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace Adapters.Registry.Web;

/// <summary>Builds the page's HTML: every value from a repository or a request goes through <see cref="Text"/> or <see cref="Attribute"/>.</summary>
internal static class Html
{
    public static string Text(string? value) => HtmlEncoder.Default.Encode(value ?? "");

    public static string Attribute(string? value) => HtmlEncoder.Default.Encode(value ?? "");

    /// <summary>A path segment or query value for a URL the page builds.</summary>
    public static string Url(string value) => Uri.EscapeDataString(value);

    /// <summary>A repository page's path: <c>/-/models/{namespace}/{name}</c> (<c>-</c> can start no repository id, so this never meets a Hub route).</summary>
    public static string RepoPath(RepoKey key) => "/-/" + key.Type.ApiSegment() + "/" + string.Join('/', key.Id.Split('/').Select(Url));

    /// <summary>The search page's URL with one facet set (the others kept).</summary>
    public static string SearchPath(IEnumerable<(string Name, string? Value)> query)
    {
        var parts = query.Where(q => !string.IsNullOrEmpty(q.Value)).Select(q => q.Name + "=" + Url(q.Value!)).ToList();
        return parts.Count == 0 ? "/" : "/?" + string.Join('&', parts);
    }

    public static string Bytes(long size) => size switch
    {
        < 1024 => size.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (size / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (size / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        _ => (size / (1024.0 * 1024 * 1024)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
    };

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Date(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>A whole page: the shared header and style around <paramref name="body"/>.</summary>
    public static string Page(string title, string body)
    {
        var page = new StringBuilder();
        page.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        page.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        page.Append("<title>").Append(Text(title)).Append("</title><style>").Append(Style).Append("</style></head><body>");
        page.Append("<header><a class=\"home\" href=\"/\">Adapter registry</a></header><main>");
        page.Append(body);
        page.Append("</main></body></html>\n");
        return page.ToString();
    }

    // Plain CSS, inline: the page loads nothing else (and its Content-Security-Policy allows nothing else).
    private const string Style = """
        body{font-family:system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}
        header{background:#24292f;padding:.6rem 1.2rem}header a.home{color:#fff;font-weight:600;text-decoration:none}
        main{max-width:1100px;margin:0 auto;padding:1rem 1.2rem}
        a{color:#0969da}h1{font-size:1.5rem}h2{font-size:1.15rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
        form.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:1rem}
        form.search label{display:flex;flex-direction:column;font-size:.8rem;color:#57606a}
        form.search input,form.search select{font-size:.95rem;padding:.25rem}
        ul.results{list-style:none;padding:0}ul.results li{border-bottom:1px solid #eaeef2;padding:.5rem 0}
        .repo-id{font-weight:600}.chip{display:inline-block;background:#ddf4ff;border-radius:1rem;padding:0 .5rem;margin:.1rem .2rem;font-size:.8rem}
        .chip.library{background:#dafbe1}.muted{color:#57606a;font-size:.85rem}
        table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left}
        pre{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:.85rem}code{font-family:ui-monospace,monospace}
        .card{border:1px solid #d0d7de;border-radius:6px;padding:0 1rem;margin-bottom:1rem}
        .problem{color:#cf222e}.hash{font-family:ui-monospace,monospace;font-size:.75rem;word-break:break-all}
        """;
}
