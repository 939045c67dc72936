using System.Globalization;
using System.Text;

namespace Adapters.Hub.Text;

/// <summary>
/// The one sanitizer for text that came from a file, a server or a user and ends up in an error message or on a
/// terminal: control characters (terminal escape sequences, carriage returns, line breaks, bidi overrides) are
/// written as visible escapes, and long values are shortened in the middle, so a hostile name can neither
/// rewrite the terminal nor bury the message. The CLI's error printer passes every message through
/// <see cref="OneLine"/>; exception messages that echo file content quote it with <see cref="Quote"/>.
/// </summary>
/// <remarks>
/// This source file is compiled into Adapters.Hub and linked into Adapters.Core and the CLI as an internal
/// type, so that every project uses the same rules without making them public API.
/// </remarks>
internal static class SafeText
{
    /// <summary>The longest value <see cref="Quote"/> keeps whole.</summary>
    public const int MaxValueLength = 160;

    /// <summary>The longest message <see cref="OneLine"/> keeps whole.</summary>
    public const int MaxMessageLength = 1000;

    private const string Ellipsis = "…";

    /// <summary>
    /// <paramref name="value"/> in single quotes, escaped, and shortened to about <paramref name="maxLength"/>
    /// characters, for naming something untrusted inside a message.
    /// </summary>
    public static string Quote(string? value, int maxLength = MaxValueLength) =>
        value is null ? "(none)" : "'" + Shorten(Escape(value), maxLength) + "'";

    /// <summary>
    /// A message as one terminal-safe line: line breaks become spaces, every other control character an escape,
    /// and a message longer than <paramref name="maxLength"/> loses its middle.
    /// </summary>
    public static string OneLine(string? message, int maxLength = MaxMessageLength)
    {
        if (string.IsNullOrEmpty(message)) return "";
        var flattened = message.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\n', ' ').Trim();
        return Shorten(Escape(flattened), maxLength);
    }

    /// <summary>
    /// Writes every character a terminal would act on as a visible escape: C0 and C1 controls and DEL as
    /// <c>\xNN</c> (with <c>\t</c>, <c>\n</c>, <c>\r</c> and <c>\e</c> for the common ones), bidi overrides and
    /// isolates, zero-width and other format characters, and lone surrogates as <c>\uNNNN</c>. A backslash
    /// stays as it is.
    /// </summary>
    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var index = 0;
        while (index < value.Length && IsSafe(value, index)) index += char.IsHighSurrogate(value[index]) ? 2 : 1;
        if (index == value.Length) return value;

        var builder = new StringBuilder(value.Length + 16);
        builder.Append(value, 0, index);
        for (; index < value.Length; index++)
        {
            var c = value[index];
            if (IsSafe(value, index))
            {
                builder.Append(c);
                if (char.IsHighSurrogate(c)) builder.Append(value[++index]);
                continue;
            }
            _ = c switch
            {
                '\t' => builder.Append("\\t"),
                '\n' => builder.Append("\\n"),
                '\r' => builder.Append("\\r"),
                '\u001b' => builder.Append("\\e"),
                < '\u0100' => builder.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)),
                _ => builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
            };
        }
        return builder.ToString();
    }

    /// <summary>Keeps the start and the end of <paramref name="value"/> (where names differ most) and says how much was left out.</summary>
    public static string Shorten(string value, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length <= maxLength) return value;
        var omitted = string.Create(CultureInfo.InvariantCulture, $"{Ellipsis}({value.Length} chars){Ellipsis}");
        var keep = Math.Max(2, maxLength - omitted.Length);
        var head = keep * 2 / 3;
        var tail = keep - head;
        // Never cut a surrogate pair in half.
        if (head > 0 && char.IsHighSurrogate(value[head - 1])) head--;
        if (tail > 0 && char.IsLowSurrogate(value[^tail])) tail--;
        return string.Concat(value.AsSpan(0, head), omitted, value.AsSpan(value.Length - tail));
    }

    private static bool IsSafe(string value, int index)
    {
        var c = value[index];
        if (char.IsHighSurrogate(c)) return index + 1 < value.Length && char.IsLowSurrogate(value[index + 1]);
        if (char.IsLowSurrogate(c)) return false;
        if (char.IsControl(c)) return false;
        return CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);
    }
}
