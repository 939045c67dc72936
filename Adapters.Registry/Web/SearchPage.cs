using System.Text;

namespace Adapters.Registry.Web;

/// <summary>The page at <c>/</c>: a search box, one select per facet (values and counts from what the caller may see), and the matching repositories.</summary>
internal static class SearchPage
{
    /// <summary>At most this many results are listed; the count says how many matched.</summary>
    public const int MaxListed = 500;

    public static string Render(IReadOnlyList<CatalogEntry> visible, CatalogSearch search)
    {
        var matches = visible.Where(search.Matches).ToList();
        var body = new StringBuilder();
        body.Append("<h1>Find an adapter</h1>");
        body.Append("<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">");
        body.Append("<label>Search<input type=\"search\" name=\"q\" id=\"q\" value=\"").Append(Html.Attribute(search.Text)).Append("\" placeholder=\"id, task, model, tag\"></label>");
        foreach (var (parameter, label, values) in CatalogSearch.Facets)
        {
            var selected = search.Selected(parameter);
            var options = visible.SelectMany(e => values(e.Facts).Distinct(StringComparer.OrdinalIgnoreCase))
                .GroupBy(v => v, StringComparer.OrdinalIgnoreCase)
                .Select(g => (Value: g.Key, Count: g.Count()))
                .OrderBy(o => o.Value, StringComparer.OrdinalIgnoreCase)
                .ToList();
            body.Append("<label>").Append(Html.Text(label)).Append("<select name=\"").Append(parameter).Append("\" id=\"").Append(parameter).Append("\">");
            body.Append("<option value=\"\">any</option>");
            foreach (var (value, count) in options)
            {
                var isSelected = string.Equals(value, selected, StringComparison.OrdinalIgnoreCase);
                body.Append("<option value=\"").Append(Html.Attribute(value)).Append('"').Append(isSelected ? " selected" : "").Append('>')
                    .Append(Html.Text(value)).Append(" (").Append(count).Append(")</option>");
            }
            if (selected is not null && !options.Any(o => string.Equals(o.Value, selected, StringComparison.OrdinalIgnoreCase)))
            {
                // A filter value no visible repository has still shows as chosen (and matches nothing).
                body.Append("<option value=\"").Append(Html.Attribute(selected)).Append("\" selected>").Append(Html.Text(selected)).Append(" (0)</option>");
            }
            body.Append("</select></label>");
        }
        body.Append("<button type=\"submit\" id=\"search\">Search</button> <a href=\"/\">clear</a></form>");

        body.Append("<p class=\"muted\" id=\"result-count\">").Append(matches.Count).Append(matches.Count == 1 ? " adapter" : " adapters")
            .Append(" of ").Append(visible.Count).Append("</p>");
        body.Append("<ul class=\"results\" id=\"results\">");
        foreach (var entry in matches.Take(MaxListed))
        {
            var facts = entry.Facts;
            body.Append("<li><a class=\"repo-id\" href=\"").Append(Html.Attribute(Html.RepoPath(entry.Key))).Append("\">").Append(Html.Text(entry.Key.Id)).Append("</a>");
            if (entry.Metadata.Private) body.Append(" <span class=\"chip\">private</span>");
            body.Append("<div>");
            if (facts.Library != AdapterLibrary.Other) body.Append("<span class=\"chip library\">").Append(facts.Library.Name()).Append("</span>");
            if (facts.Architecture is { } architecture) body.Append("<span class=\"chip\">").Append(Html.Text(architecture)).Append("</span>");
            foreach (var task in facts.Tasks) body.Append("<span class=\"chip\">task: ").Append(Html.Text(task)).Append("</span>");
            foreach (var language in facts.Languages) body.Append("<span class=\"chip\">language: ").Append(Html.Text(language)).Append("</span>");
            body.Append("</div><div class=\"muted\">");
            if (facts.BaseModel is { } baseModel) body.Append("base model ").Append(Html.Text(baseModel)).Append(" · ");
            body.Append("updated ").Append(Html.Date(entry.Updated)).Append("</div></li>");
        }
        body.Append("</ul>");
        if (matches.Count > MaxListed) body.Append("<p class=\"muted\">Showing the first ").Append(MaxListed).Append("; narrow the search to see the rest.</p>");
        return Html.Page("Adapter registry", body.ToString());
    }
}
