using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Adapters.Core.Configuration;

/// <summary>
/// Writes and reads JSON exactly as Python's <c>json.dump(obj, f, indent=2, sort_keys=True)</c> does, which is how the
/// adapters library writes <c>adapter_config.json</c>: keys sorted by code point at every level, two-space indent,
/// <c>", "</c> / <c>": "</c> separators, non-ASCII as <c>\uXXXX</c>, floats in Python's <c>repr</c> form and no
/// trailing newline.
/// </summary>
public static class PythonJson
{
    /// <summary>Serialises <paramref name="node"/> the way Python's <c>json.dump(indent=2, sort_keys=True)</c> does.</summary>
    /// <param name="node">The value to write; integers and floats keep their Python type (see <see cref="IsFloat"/>).</param>
    /// <param name="sortKeys">Sort object keys (Python's <c>sort_keys</c>); false keeps insertion order.</param>
    public static string Serialize(JsonNode? node, bool sortKeys = true)
    {
        var builder = new StringBuilder();
        Write(builder, node, 0, sortKeys);
        return builder.ToString();
    }

    /// <summary>Parses JSON text into a mutable node tree, keeping the int/float distinction of every number literal.</summary>
    /// <exception cref="AdapterConfigException">The text is not valid JSON.</exception>
    public static JsonNode? Parse(string json, string sourceName)
    {
        try
        {
            return JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new AdapterConfigException($"{sourceName} is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// True when a JSON number stands for a Python <c>float</c>: a parsed literal with a fraction or exponent, or a
    /// value created from <see cref="double"/>/<see cref="float"/>.
    /// </summary>
    public static bool IsFloat(JsonValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.TryGetValue<JsonElement>(out var element))
        {
            if (element.ValueKind != JsonValueKind.Number) return false;
            var raw = element.GetRawText();
            return raw.AsSpan().IndexOfAny(".eE") >= 0;
        }
        return value.GetValue<object>() is double or float or decimal;
    }

    /// <summary>Reads any JSON number as a double.</summary>
    public static double ToDouble(JsonValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.TryGetValue<JsonElement>(out var element)
            ? element.GetDouble()
            : Convert.ToDouble(value.GetValue<object>(), CultureInfo.InvariantCulture);
    }

    /// <summary>Formats a double as Python's <c>repr(float)</c>: <c>1.0</c>, <c>0.0001</c>, <c>1e-05</c>, <c>1e+16</c>.</summary>
    public static string FormatFloat(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "Infinity";
        if (double.IsNegativeInfinity(value)) return "-Infinity";
        if (value == 0) return double.IsNegative(value) ? "-0.0" : "0.0";

        // "E16" is not shortest; "R" is, so take its digits and exponent and re-lay them out with Python's rules.
        var shortest = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = shortest.StartsWith('-');
        if (negative) shortest = shortest[1..];
        var exponentAt = shortest.IndexOfAny(['E', 'e']);
        var mantissa = exponentAt >= 0 ? shortest[..exponentAt] : shortest;
        var exponent = exponentAt >= 0 ? int.Parse(shortest[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
        var point = mantissa.IndexOf('.');
        var digits = point >= 0 ? mantissa.Remove(point, 1) : mantissa;
        var integerDigits = point >= 0 ? point : mantissa.Length;
        var leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        if (digits.Length == 0) return negative ? "-0.0" : "0.0";
        // Decimal exponent of the first significant digit, as in d.ddd × 10^decimalExponent.
        var decimalExponent = integerDigits - leadingZeros - 1 + exponent;

        string text;
        if (decimalExponent < -4 || decimalExponent >= 16)
        {
            var head = digits[..1];
            var tail = digits.Length > 1 ? "." + digits[1..] : string.Empty;
            var sign = decimalExponent < 0 ? "-" : "+";
            text = $"{head}{tail}e{sign}{Math.Abs(decimalExponent):00}";
        }
        else if (decimalExponent < 0)
        {
            text = "0." + new string('0', -decimalExponent - 1) + digits;
        }
        else if (digits.Length <= decimalExponent + 1)
        {
            text = digits + new string('0', decimalExponent + 1 - digits.Length) + ".0";
        }
        else
        {
            text = digits[..(decimalExponent + 1)] + "." + digits[(decimalExponent + 1)..];
        }
        return negative ? "-" + text : text;
    }

    private static void Write(StringBuilder builder, JsonNode? node, int depth, bool sortKeys)
    {
        switch (node)
        {
            case null:
                builder.Append("null");
                break;
            case JsonObject obj:
                if (obj.Count == 0) { builder.Append("{}"); break; }
                builder.Append('{');
                IEnumerable<KeyValuePair<string, JsonNode?>> entries = obj;
                if (sortKeys) entries = entries.OrderBy(entry => entry.Key, StringComparer.Ordinal);
                var first = true;
                foreach (var (key, value) in entries)
                {
                    builder.Append(first ? "\n" : ",\n");
                    first = false;
                    builder.Append(' ', (depth + 1) * 2);
                    WriteString(builder, key);
                    builder.Append(": ");
                    Write(builder, value, depth + 1, sortKeys);
                }
                builder.Append('\n').Append(' ', depth * 2).Append('}');
                break;
            case JsonArray array:
                if (array.Count == 0) { builder.Append("[]"); break; }
                builder.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    builder.Append(i == 0 ? "\n" : ",\n");
                    builder.Append(' ', (depth + 1) * 2);
                    Write(builder, array[i], depth + 1, sortKeys);
                }
                builder.Append('\n').Append(' ', depth * 2).Append(']');
                break;
            case JsonValue value:
                WriteValue(builder, value);
                break;
        }
    }

    private static void WriteValue(StringBuilder builder, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(builder, value.GetValue<string>());
                break;
            case JsonValueKind.True:
                builder.Append("true");
                break;
            case JsonValueKind.False:
                builder.Append("false");
                break;
            case JsonValueKind.Null:
                builder.Append("null");
                break;
            case JsonValueKind.Number:
                if (IsFloat(value))
                {
                    builder.Append(FormatFloat(ToDouble(value)));
                }
                else if (value.TryGetValue<JsonElement>(out var element))
                {
                    builder.Append(element.GetRawText());
                }
                else
                {
                    builder.Append(Convert.ToInt64(value.GetValue<object>(), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
                }
                break;
            default:
                throw new AdapterConfigException($"A {value.GetValueKind()} value cannot be written as Python JSON.");
        }
    }

    private static void WriteString(StringBuilder builder, string text)
    {
        builder.Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7E)
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        builder.Append(c);
                    break;
            }
        }
        builder.Append('"');
    }
}
