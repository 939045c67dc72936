using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Web;

/// <summary>
/// The search page's query (<c>/?q=&amp;library=&amp;architecture=&amp;base_model=&amp;task=&amp;language=</c>):
/// free text over id, base model, tasks, languages and tags, and exact (case-insensitive) facet filters.
/// </summary>
internal sealed record CatalogSearch
{
    /// <summary>Query values longer than this are cut: they are filters, not documents.</summary>
    public const int MaxValueLength = 200;

    public string Text { get; init; } = "";

    public string? Library { get; init; }

    public string? Architecture { get; init; }

    public string? BaseModel { get; init; }

    public string? Task { get; init; }

    public string? Language { get; init; }

    /// <summary>The facets in page order: query parameter, label, and the values an entry has for it.</summary>
    public static IReadOnlyList<(string Parameter, string Label, Func<AdapterFacts, IEnumerable<string>> Values)> Facets { get; } =
    [
        ("library", "Library", f => f.Library == AdapterLibrary.Other ? [] : [f.Library.Name()]),
        ("architecture", "Architecture", f => f.Architecture is { } a ? [a] : []),
        ("base_model", "Base model", f => f.BaseModel is { } b ? [b] : []),
        ("task", "Task", f => f.Tasks),
        ("language", "Language", f => f.Languages),
    ];

    public static CatalogSearch From(HttpContext context)
    {
        string? Value(string name)
        {
            var value = context.Request.Query[name].FirstOrDefault()?.Trim();
            if (string.IsNullOrEmpty(value)) return null;
            return value.Length > MaxValueLength ? value[..MaxValueLength] : value;
        }
        return new CatalogSearch
        {
            Text = Value("q") ?? "",
            Library = Value("library"),
            Architecture = Value("architecture"),
            BaseModel = Value("base_model"),
            Task = Value("task"),
            Language = Value("language"),
        };
    }

    /// <summary>The filter value selected for a facet's parameter, or null.</summary>
    public string? Selected(string parameter) => parameter switch
    {
        "library" => Library,
        "architecture" => Architecture,
        "base_model" => BaseModel,
        "task" => Task,
        "language" => Language,
        _ => null,
    };

    public bool Matches(CatalogEntry entry)
    {
        foreach (var (parameter, _, values) in Facets)
        {
            if (Selected(parameter) is { } wanted && !values(entry.Facts).Contains(wanted, StringComparer.OrdinalIgnoreCase)) return false;
        }
        if (Text.Length == 0) return true;
        var haystack = new[] { entry.Key.Id, entry.Facts.BaseModel, entry.Facts.Architecture, entry.Facts.ModelType }
            .Concat(entry.Facts.Tasks).Concat(entry.Facts.Languages).Concat(entry.Facts.Tags)
            .Where(s => s is not null).Select(s => s!).ToList();
        // Every word must occur somewhere, as a search box is usually read.
        return Text.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .All(word => haystack.Any(h => h.Contains(word, StringComparison.OrdinalIgnoreCase)));
    }
}
