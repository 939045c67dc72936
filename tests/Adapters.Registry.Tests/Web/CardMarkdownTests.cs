using Adapters.Registry.Web;

namespace Adapters.Registry.Tests.Web;

/// <summary>The card renderer alone: Markdown becomes HTML, hostile input becomes harmless text or a neutral link.</summary>
public sealed class CardMarkdownTests
{
    [Fact]
    public void Markdown_renders_to_html()
    {
        var html = CardMarkdown.ToSafeHtml("# Title\n\nSome **bold** text, a [link](https://huggingface.co/docs) and `code`.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint(1)\n```\n");

        Assert.Contains("<h1", html, StringComparison.Ordinal);
        Assert.Contains("<strong>bold</strong>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://huggingface.co/docs\">link</a>", html, StringComparison.Ordinal);
        Assert.Contains("<table>", html, StringComparison.Ordinal);
        Assert.Contains("<code class=\"language-python\">print(1)", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hostile_card_renders_without_scripts_handlers_or_script_urls()
    {
        HostileMarkdown.AssertHarmless(CardMarkdown.ToSafeHtml(HostileMarkdown.Card));
    }

    [Theory]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("JAVASCRIPT:alert(1)", false)]
    [InlineData(" java\tscript:alert(1)", false)]
    [InlineData("java\nscript:alert(1)", false)]
    [InlineData("vbscript:x", false)]
    [InlineData("data:text/html,x", false)]
    [InlineData("https://adapterhub.ml/", true)]
    [InlineData("mailto:team@example.com", true)]
    [InlineData("relative/path.md", true)]
    [InlineData("#section", true)]
    [InlineData("/absolute?x=a:b", true)]
    public void Link_schemes_are_judged_as_a_browser_reads_them(string url, bool safe)
    {
        Assert.Equal(safe, CardMarkdown.IsSafe(url, ["http", "https", "mailto"]));
    }

    [Fact]
    public void Relative_links_and_images_become_repository_file_urls_and_the_rest_stay()
    {
        var html = CardMarkdown.ToSafeHtml(
            "[config](adapter_config.json) ![plot](img/plot.png) [up](../secret) [anchor](#usage) [site](/other) [web](https://adapterhub.ml/) [bad](javascript:alert(1))",
            path => "/me/repo/resolve/main/" + path);

        Assert.Contains("<a href=\"/me/repo/resolve/main/adapter_config.json\">config</a>", html, StringComparison.Ordinal);
        Assert.Contains("<img src=\"/me/repo/resolve/main/img/plot.png\" alt=\"plot\" />", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"../secret\">up</a>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#usage\">anchor</a>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"/other\">site</a>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://adapterhub.ml/\">web</a>", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"#\">bad</a>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_card_too_long_to_render_is_cut_with_a_note()
    {
        var html = CardMarkdown.ToSafeHtml(new string('a', CardMarkdown.MaxRenderedChars + 10));

        Assert.Contains("the rest is not shown", html, StringComparison.Ordinal);
    }
}
