using Markdig;
using Markdig.Renderers;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Adapters.Registry.Web;

/// <summary>
/// Renders a model card's Markdown to HTML that is safe to embed in the page, whoever wrote the card:
/// raw HTML (blocks and inline) is written as escaped text, and every link and image destination whose scheme
/// is not http, https or mailto (for images: http or https) becomes <c>#</c>, so no <c>javascript:</c>,
/// <c>vbscript:</c> or <c>data:</c> URL survives, however it was spelt (entities, case, embedded tabs).
/// No extension that lets Markdown set attributes (Markdig's generic attributes) is enabled.
/// </summary>
internal static class CardMarkdown
{
    /// <summary>Cards longer than this are shown up to it, then cut with a note (parsing cost is linear, but pages should stay small).</summary>
    public const int MaxRenderedChars = 256 * 1024;

    /// <summary>What an unsafe destination is replaced with.</summary>
    public const string NeutralUrl = "#";

    private static readonly MarkdownPipeline s_pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables()
        .UseEmphasisExtras()
        .UseTaskLists()
        .UseAutoLinks()
        .DisableHtml()
        .Build();

    private static readonly string[] s_linkSchemes = ["http", "https", "mailto"];

    private static readonly string[] s_imageSchemes = ["http", "https"];

    /// <summary>
    /// Renders <paramref name="markdown"/>. A relative link or image (<c>adapter_config.json</c>, <c>img/plot.png</c>)
    /// means a file of the repository, as on the Hub: <paramref name="fileUrl"/> maps it to that file's URL.
    /// </summary>
    public static string ToSafeHtml(string markdown, Func<string, string>? fileUrl = null)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        var cut = markdown.Length > MaxRenderedChars;
        if (cut) markdown = markdown[..MaxRenderedChars];
        var document = Markdown.Parse(markdown, s_pipeline);
        foreach (var link in document.Descendants<LinkInline>())
        {
            var url = link.GetDynamicUrl?.Invoke() ?? link.Url;
            link.GetDynamicUrl = null;
            link.Url = !IsSafe(url, link.IsImage ? s_imageSchemes : s_linkSchemes) ? NeutralUrl
                : fileUrl is not null && IsRepositoryPath(url) ? fileUrl(url!) : url;
        }
        foreach (var autolink in document.Descendants<AutolinkInline>())
        {
            // An e-mail autolink is rendered as mailto: by Markdig; anything else must be a safe URL itself.
            if (!autolink.IsEmail && !IsSafe(autolink.Url, s_linkSchemes)) autolink.Url = NeutralUrl;
        }
        using var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        s_pipeline.Setup(renderer);
        renderer.Render(document);
        writer.Flush();
        var html = writer.ToString();
        return cut ? html + $"<p><em>The card is longer than {MaxRenderedChars} characters; the rest is not shown.</em></p>" : html;
    }

    /// <summary>A relative path without scheme, host or query (<c>#anchor</c>, <c>/absolute</c> and <c>//host</c> are left alone).</summary>
    private static bool IsRepositoryPath(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] is not ('#' or '/' or '?') && url.IndexOfAny([':', '?', '#', '\\']) < 0 && !url.Split('/').Contains("..");

    /// <summary>
    /// True for a relative reference (no scheme) or one of <paramref name="schemes"/>. The scheme is read the
    /// way a browser reads it: ASCII whitespace and control characters are dropped first, case is ignored.
    /// </summary>
    public static bool IsSafe(string? url, IReadOnlyList<string> schemes)
    {
        if (string.IsNullOrEmpty(url)) return true;
        var compact = new string(url.Where(c => c > ' ' && c != '\u007f').ToArray());
        var end = compact.IndexOfAny([':', '/', '?', '#']);
        if (end < 0 || compact[end] != ':') return true;
        var scheme = compact[..end];
        return schemes.Contains(scheme, StringComparer.OrdinalIgnoreCase);
    }
}
