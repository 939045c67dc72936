using System.Net;
using System.Text.RegularExpressions;

namespace Adapters.Registry.Tests.Web;

/// <summary>
/// A model card written to attack whoever views it, and the checks that rendered HTML is harmless: no script
/// element, no event-handler attribute, no <c>javascript:</c>/<c>vbscript:</c>/<c>data:</c> destination in any
/// attribute, however the Markdown spelt it.
/// </summary>
internal static partial class HostileMarkdown
{
    /// <summary>Text of the safe link the card also holds, which must survive as a link.</summary>
    public const string SafeLinkText = "the safe link";

    public const string SafeLinkUrl = "https://adapterhub.ml/";

    /// <summary>Front matter whose values end up in the search page's chips, selects and the repository page.</summary>
    public const string FrontMatter = """
        ---
        library_name: adapters
        base_model: "\"><img src=x onerror=alert('base model')>"
        pipeline_tag: "<script>alert('task')</script>"
        language:
        - "' onfocus='alert(1)' x='"
        tags:
        - "<svg onload=alert('tag')>"
        ---

        """;

    public static string Card => $$"""
        # Hostile card

        <script>alert('block script')</script>

        Inline <script>alert('inline script')</script> and <img src=x onerror="alert('onerror')"> and <a href="javascript:alert('raw a')">raw</a>.

        <iframe src="javascript:alert('iframe')"></iframe>

        [plain](javascript:alert('plain'))
        [cased](JaVaScRiPt:alert('cased'))
        [entity](&#106;avascript:alert('entity'))
        [hex entity](javascript&#x3A;alert('colon entity'))
        [tab](java&#9;script:alert('tab'))
        [spaced]( javascript:alert('spaced'))
        [vb](vbscript:msgbox('vb'))
        [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
        ![image](javascript:alert('image'))
        ![data image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)
        <javascript:alert('autolink')>
        [reference][evil]
        [title](https://example.com "\" onmouseover=\"alert('title')")
        [attributes](https://example.com){onclick="alert('generic attributes')"}

        [evil]: javascript:alert('reference')

        [{{SafeLinkText}}]({{SafeLinkUrl}})
        """;

    /// <summary>Asserts that <paramref name="html"/> carries nothing that runs, and that the card's safe link is still a link.</summary>
    public static void AssertHarmless(string html)
    {
        AssertNothingRuns(html);
        Assert.Contains($"<a href=\"{SafeLinkUrl}\">{SafeLinkText}</a>", html, StringComparison.Ordinal);
    }

    /// <summary>Asserts that <paramref name="html"/> has no script or frame element, no event handler and no script URL in any attribute.</summary>
    public static void AssertNothingRuns(string html)
    {
        Assert.DoesNotMatch(ScriptElement(), html);
        Assert.DoesNotMatch(IFrameElement(), html);
        foreach (Match tag in Tag().Matches(html))
        {
            foreach (Match attribute in Attribute().Matches(tag.Groups["attributes"].Value))
            {
                var name = attribute.Groups["name"].Value;
                Assert.False(name.StartsWith("on", StringComparison.OrdinalIgnoreCase), $"event handler attribute in {tag.Value}");
                var value = WebUtility.HtmlDecode(attribute.Groups["value"].Value);
                var compact = new string(value.Where(c => c > ' ').ToArray());
                Assert.DoesNotMatch(DangerousScheme(), compact);
            }
        }
    }

    [GeneratedRegex("<\\s*script", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptElement();

    [GeneratedRegex("<\\s*iframe", RegexOptions.IgnoreCase)]
    private static partial Regex IFrameElement();

    [GeneratedRegex("<(?<tag>[a-zA-Z][a-zA-Z0-9]*)(?<attributes>[^>]*)>")]
    private static partial Regex Tag();

    [GeneratedRegex("(?<name>[^\\s=/\"']+)\\s*=\\s*(?:\"(?<value>[^\"]*)\"|'(?<value>[^']*)'|(?<value>[^\\s>]+))")]
    private static partial Regex Attribute();

    [GeneratedRegex("^(?:javascript|vbscript|data):", RegexOptions.IgnoreCase)]
    private static partial Regex DangerousScheme();
}
