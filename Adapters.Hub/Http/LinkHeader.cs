namespace Adapters.Hub.Http;

/// <summary>Reads the RFC 8288 <c>Link</c> header the Hub uses for pagination.</summary>
internal static class LinkHeader
{
    /// <summary>The <c>rel="next"</c> target, resolved against the request URL; null on the last page.</summary>
    public static Uri? Next(HttpResponseMessage response) => Find(response, "next");

    /// <summary>The target of the link with relation <paramref name="relation"/>, resolved against the request URL; null when absent.</summary>
    public static Uri? Find(HttpResponseMessage response, string relation)
    {
        if (!response.Headers.TryGetValues("Link", out var values)) return null;
        foreach (var value in values)
        {
            foreach (var link in SplitLinks(value))
            {
                var close = link.IndexOf('>', StringComparison.Ordinal);
                var open = link.IndexOf('<', StringComparison.Ordinal);
                if (open < 0 || close < open) continue;
                var parameters = link[(close + 1)..].Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                if (parameters.Any(p => p.Replace(" ", "", StringComparison.Ordinal) == $"rel=\"{relation}\"" || p.Replace(" ", "", StringComparison.Ordinal) == $"rel={relation}"))
                {
                    var target = link[(open + 1)..close];
                    var baseUri = response.RequestMessage?.RequestUri;
                    return baseUri is null ? new Uri(target) : new Uri(baseUri, target);
                }
            }
        }
        return null;
    }

    /// <summary>Splits on commas that are outside the angle brackets (URLs may contain commas).</summary>
    private static IEnumerable<string> SplitLinks(string header)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < header.Length; i++)
        {
            switch (header[i])
            {
                case '<': depth++; break;
                case '>': depth--; break;
                case ',' when depth == 0:
                    yield return header[start..i].Trim();
                    start = i + 1;
                    break;
            }
        }
        yield return header[start..].Trim();
    }
}
