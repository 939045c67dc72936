using Adapters.Hub.Text;

namespace Adapters.Hub.Tests.Text;

/// <summary>The one sanitizer for untrusted text in messages.</summary>
public sealed class SafeTextTests
{
    [Theory]
    [InlineData("\u001b]0;title\u0007", "\\e]0;title\\x07")]
    [InlineData("a\rb\nc\td", "a\\rb\\nc\\td")]
    [InlineData("\u009b31m", "\\x9b31m")]
    [InlineData("\u007f", "\\x7f")]
    [InlineData("evil\u202Etxt.exe", "evil\\u202etxt.exe")]
    [InlineData("zero\u200Bwidth", "zero\\u200bwidth")]
    [InlineData("emoji 😀 and é stay", "emoji 😀 and é stay")]
    [InlineData("C:\\path\\ok", "C:\\path\\ok")]
    public void Escape_makes_every_character_a_terminal_acts_on_visible(string raw, string expected)
    {
        Assert.Equal(expected, SafeText.Escape(raw));
    }

    [Fact]
    public void A_lone_surrogate_is_escaped()
    {
        // Built in code: test data attributes cannot carry a lone surrogate intact.
        Assert.Equal("lone\\ud800x", SafeText.Escape("lone" + (char)0xD800 + "x"));
    }

    [Fact]
    public void OneLine_joins_lines_and_shortens_in_the_middle()
    {
        var message = "first line\r\nsecond\n" + new string('x', 5000) + " the end";

        var line = SafeText.OneLine(message);

        Assert.StartsWith("first line second ", line, StringComparison.Ordinal);
        Assert.EndsWith(" the end", line, StringComparison.Ordinal);
        Assert.Contains("…(5026 chars)…", line, StringComparison.Ordinal);
        Assert.InRange(line.Length, 900, SafeText.MaxMessageLength);
    }

    [Fact]
    public void Quote_shortens_long_names_without_splitting_a_surrogate_pair()
    {
        var name = string.Concat(Enumerable.Repeat("😀", 200));

        var quoted = SafeText.Quote(name, maxLength: 41);

        Assert.StartsWith("'😀", quoted, StringComparison.Ordinal);
        Assert.EndsWith("😀'", quoted, StringComparison.Ordinal);
        Assert.Equal(quoted, SafeText.Escape(quoted));
        Assert.Equal("'short'", SafeText.Quote("short"));
        Assert.Equal("(none)", SafeText.Quote(null));
    }
}
