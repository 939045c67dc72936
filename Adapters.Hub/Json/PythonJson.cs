using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Adapters.Hub.Json;

/// <summary>
/// Python's <c>json</c> module, byte for byte: <c>json.dump(obj, f, indent=2, sort_keys=True)</c> as the adapters
/// library writes <c>adapter_config.json</c> (<see cref="Serialize"/>), and <c>json.dumps(obj, sort_keys=True)</c>
/// as its config-id hash uses (<see cref="Dumps"/>). Separators are <c>", "</c>/<c>": "</c> (<c>","</c> at line
/// ends with an indent), strings use <c>ensure_ascii</c> escaping, keys sort by code point, and numbers render as
/// Python renders the int or float the value came from. No trailing newline.
/// </summary>
/// <remarks>
/// It lives in the Hub client, the lowest project, because the legacy AdapterHub ids hash Python's JSON text;
/// <c>Adapters.Core</c> parses config files with it through <c>ConfigJson</c>.
/// </remarks>
public static class PythonJson
{
    /// <summary>Serialises <paramref name="node"/> the way Python's <c>json.dump(indent=2, sort_keys=True)</c> does.</summary>
    /// <param name="node">The value to write; integers and floats keep their Python type (see <see cref="IsFloat"/>).</param>
    /// <param name="sortKeys">Sort object keys (Python's <c>sort_keys</c>); false keeps insertion order.</param>
    public static string Serialize(JsonNode? node, bool sortKeys = true)
    {
        var builder = new StringBuilder();
        Write(builder, node, 2, 0, sortKeys);
        return builder.ToString();
    }

    /// <summary>Serializes <paramref name="value"/> like <c>json.dumps(value, sort_keys=True, indent=indent)</c>.</summary>
    /// <param name="value">The value; numbers keep the int/float kind they were parsed or created with.</param>
    /// <param name="indent">Null for one line, otherwise the number of spaces per nesting level.</param>
    public static string Dumps(JsonNode? value, int? indent = null)
    {
        var builder = new StringBuilder();
        Write(builder, value, indent, 0, sortKeys: true);
        return builder.ToString();
    }

    /// <summary>Whether a JSON number is a Python <c>float</c> (written with a fraction or exponent) rather than an <c>int</c>.</summary>
    public static bool IsFloat(JsonValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.TryGetValue<JsonElement>(out var element))
        {
            if (element.ValueKind != JsonValueKind.Number) return false;
            return element.GetRawText().AsSpan().IndexOfAny(".eE") >= 0;
        }
        return value.TryGetValue<double>(out _) || value.TryGetValue<float>(out _) || value.TryGetValue<decimal>(out _);
    }

    /// <summary>Python truthiness of a JSON value: null, false, 0, 0.0, "", [] and {} are false.</summary>
    public static bool IsTruthy(JsonNode? node) => node switch
    {
        null => false,
        JsonObject o => o.Count > 0,
        JsonArray a => a.Count > 0,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.False or JsonValueKind.Null => false,
            JsonValueKind.String => v.GetValue<string>().Length > 0,
            JsonValueKind.Number => ToDouble(v) != 0.0,
            _ => true,
        },
        _ => true,
    };

    /// <summary>
    /// Python <c>==</c> between a JSON value and a scalar default: numbers compare by value across int, float and bool
    /// (<c>True == 1 == 1.0</c>), strings by ordinal content, and nothing else is equal.
    /// </summary>
    public static bool PythonEquals(JsonNode? node, object? scalar)
    {
        if (node is not JsonValue value) return node is null && scalar is null;
        var kind = value.GetValueKind();
        if (scalar is string s) return kind == JsonValueKind.String && value.GetValue<string>() == s;
        double? left = kind switch
        {
            JsonValueKind.True => 1.0,
            JsonValueKind.False => 0.0,
            JsonValueKind.Number => ToDouble(value),
            _ => null,
        };
        double? right = scalar switch
        {
            bool b => b ? 1.0 : 0.0,
            int i => i,
            long l => l,
            double d => d,
            _ => null,
        };
        return left is not null && right is not null && left.Value == right.Value;
    }

    /// <summary>Python's <c>repr(float)</c>: the shortest round-trip digits, fixed between 1e-4 and 1e16, else exponent form.</summary>
    public static string FormatFloat(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "Infinity";
        if (double.IsNegativeInfinity(value)) return "-Infinity";
        if (value == 0) return double.IsNegative(value) ? "-0.0" : "0.0";

        // "E16" is not shortest; "R" is, so take its digits and exponent apart and re-assemble Python's layout.
        var roundTrip = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = roundTrip[0] == '-';
        if (negative) roundTrip = roundTrip[1..];
        int exponent = 0;
        var ePos = roundTrip.IndexOfAny(['E', 'e']);
        if (ePos >= 0)
        {
            exponent = int.Parse(roundTrip[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            roundTrip = roundTrip[..ePos];
        }
        var dot = roundTrip.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot >= 0 ? roundTrip[..dot] : roundTrip;
        var fracPart = dot >= 0 ? roundTrip[(dot + 1)..] : "";
        var allDigits = (intPart + fracPart).TrimStart('0');
        // Position of the decimal point relative to the first significant digit (Python's decpt).
        int leadingZeros = (intPart + fracPart).Length - (intPart + fracPart).TrimStart('0').Length;
        int decimalPoint = intPart.Length + exponent - leadingZeros;
        var digits = allDigits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";

        string body;
        if (decimalPoint > -4 && decimalPoint <= 16)
        {
            if (decimalPoint <= 0) body = "0." + new string('0', -decimalPoint) + digits;
            else if (decimalPoint >= digits.Length) body = digits + new string('0', decimalPoint - digits.Length) + ".0";
            else body = digits[..decimalPoint] + "." + digits[decimalPoint..];
        }
        else
        {
            var mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            var exp = decimalPoint - 1;
            body = mantissa + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }
        return negative ? "-" + body : body;
    }

    /// <summary>Python's <c>ensure_ascii</c> string literal: printable ASCII as is, everything else as <c>\uXXXX</c> UTF-16 units.</summary>
    public static void WriteString(StringBuilder builder, string value)
    {
        builder.Append('"');
        foreach (var c in value)
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
                    if (c < ' ' || c > '~') builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else builder.Append(c);
                    break;
            }
        }
        builder.Append('"');
    }

    /// <summary>Orders keys as Python's <c>sorted()</c> orders <c>str</c>: by Unicode code point, not UTF-16 unit.</summary>
    public static int CompareKeys(string? left, string? right)
    {
        if (ReferenceEquals(left, right)) return 0;
        if (left is null) return -1;
        if (right is null) return 1;
        var a = left.EnumerateRunes();
        var b = right.EnumerateRunes();
        while (true)
        {
            var hasA = a.MoveNext();
            var hasB = b.MoveNext();
            if (!hasA || !hasB) return hasA.CompareTo(hasB);
            var cmp = a.Current.Value.CompareTo(b.Current.Value);
            if (cmp != 0) return cmp;
        }
    }

    /// <summary>Reads any JSON number as a double.</summary>
    public static double ToDouble(JsonValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.TryGetValue<JsonElement>(out var element)) return element.GetDouble();
        if (value.TryGetValue<long>(out var l)) return l;
        if (value.TryGetValue<int>(out var i)) return i;
        if (value.TryGetValue<float>(out var f)) return f;
        return value.GetValue<double>();
    }

    private static void Write(StringBuilder builder, JsonNode? node, int? indent, int depth, bool sortKeys)
    {
        switch (node)
        {
            case null:
                builder.Append("null");
                break;
            case JsonObject obj:
                if (obj.Count == 0) { builder.Append("{}"); break; }
                builder.Append('{');
                var first = true;
                IEnumerable<KeyValuePair<string, JsonNode?>> entries = sortKeys ? obj.OrderBy(p => p.Key, Comparer<string>.Create(CompareKeys)) : obj;
                foreach (var (key, child) in entries)
                {
                    Separator(builder, indent, depth + 1, ref first);
                    WriteString(builder, key);
                    builder.Append(": ");
                    Write(builder, child, indent, depth + 1, sortKeys);
                }
                Close(builder, indent, depth, '}');
                break;
            case JsonArray array:
                if (array.Count == 0) { builder.Append("[]"); break; }
                builder.Append('[');
                var firstItem = true;
                foreach (var child in array)
                {
                    Separator(builder, indent, depth + 1, ref firstItem);
                    Write(builder, child, indent, depth + 1, sortKeys);
                }
                Close(builder, indent, depth, ']');
                break;
            case JsonValue value:
                WriteScalar(builder, value);
                break;
        }
    }

    private static void WriteScalar(StringBuilder builder, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String: WriteString(builder, value.GetValue<string>()); break;
            case JsonValueKind.True: builder.Append("true"); break;
            case JsonValueKind.False: builder.Append("false"); break;
            case JsonValueKind.Null: builder.Append("null"); break;
            case JsonValueKind.Number:
                if (IsFloat(value)) builder.Append(FormatFloat(ToDouble(value)));
                else if (value.TryGetValue<JsonElement>(out var element)) builder.Append(element.GetRawText());
                else if (value.TryGetValue<long>(out var longValue)) builder.Append(longValue.ToString(CultureInfo.InvariantCulture));
                else if (value.TryGetValue<int>(out var intValue)) builder.Append(intValue.ToString(CultureInfo.InvariantCulture));
                else if (value.TryGetValue<ulong>(out var ulongValue)) builder.Append(ulongValue.ToString(CultureInfo.InvariantCulture));
                else throw new ArgumentException($"Cannot write the JSON number {value.ToJsonString()} as Python JSON.", nameof(value));
                break;
            default:
                throw new ArgumentException($"A {value.GetValueKind()} value cannot be written as Python JSON.", nameof(value));
        }
    }

    private static void Separator(StringBuilder builder, int? indent, int depth, ref bool first)
    {
        if (indent is { } spaces)
        {
            if (!first) builder.Append(',');
            builder.Append('\n').Append(' ', spaces * depth);
        }
        else if (!first)
        {
            builder.Append(", ");
        }
        first = false;
    }

    private static void Close(StringBuilder builder, int? indent, int depth, char bracket)
    {
        if (indent is { } spaces) builder.Append('\n').Append(' ', spaces * depth);
        builder.Append(bracket);
    }
}
