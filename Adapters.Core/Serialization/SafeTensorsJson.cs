using System.Text;

namespace Adapters.Core.Serialization;

/// <summary>Writes JSON exactly as serde_json's compact writer does (what the Python safetensors package emits).</summary>
internal static class SafeTensorsJson
{
    private const string Hex = "0123456789abcdef";

    /// <summary>Appends a JSON string literal with serde_json's escaping: quote, backslash and control characters only.</summary>
    public static void WriteString(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u00").Append(Hex[c >> 4]).Append(Hex[c & 0xF]);
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Compares strings by their UTF-8 bytes, as Rust's <c>String</c> ordering does.</summary>
    public static int CompareUtf8(string a, string b)
    {
        if (ReferenceEquals(a, b)) return 0;
        var ea = Encoding.UTF8.GetBytes(a);
        var eb = Encoding.UTF8.GetBytes(b);
        return ea.AsSpan().SequenceCompareTo(eb);
    }
}
