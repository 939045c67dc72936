using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Adapters.Core.Configuration;

/// <summary>
/// Parses the subset of Python literal syntax that <c>ast.literal_eval</c> accepts inside adapter config strings:
/// dicts, lists, tuples, quoted strings, ints, floats, <c>True</c>, <c>False</c> and <c>None</c>.
/// Ints and floats keep their Python type, so <c>r=16</c> stays an int and <c>dropout=0.1</c> a float.
/// </summary>
internal sealed class PythonLiteralParser
{
    private readonly string _text;
    private readonly string _context;
    private int _position;

    private PythonLiteralParser(string text, string context)
    {
        _text = text;
        _context = context;
    }

    /// <summary>Parses one complete literal; <paramref name="context"/> names the source in error messages.</summary>
    public static JsonNode? Parse(string text, string context)
    {
        var parser = new PythonLiteralParser(text, context);
        var value = parser.ParseValue();
        parser.SkipWhitespace();
        if (parser._position != text.Length) throw parser.Error("unexpected text after the value");
        return value;
    }

    private JsonNode? ParseValue()
    {
        SkipWhitespace();
        if (_position >= _text.Length) throw Error("a value was expected");
        var c = _text[_position];
        switch (c)
        {
            case '{': return ParseDict();
            case '[': return ParseSequence('[', ']');
            case '(': return ParseSequence('(', ')');
            case '\'':
            case '"': return JsonValue.Create(ParseString());
        }
        if (char.IsDigit(c) || c is '-' or '+' or '.') return ParseNumber();
        var word = ReadWord();
        return word switch
        {
            "True" => JsonValue.Create(true),
            "False" => JsonValue.Create(false),
            "None" => null,
            _ => throw Error($"'{word}' is not a Python literal (use quotes for strings)"),
        };
    }

    private JsonObject ParseDict()
    {
        _position++;
        var result = new JsonObject();
        while (true)
        {
            SkipWhitespace();
            if (Peek() == '}') { _position++; return result; }
            var key = ParseValue();
            if (key is not JsonValue keyValue || !keyValue.TryGetValue<string>(out var name))
                throw Error("dict keys must be strings");
            SkipWhitespace();
            Expect(':');
            result[name] = ParseValue();
            SkipWhitespace();
            if (Peek() == ',') { _position++; continue; }
            Expect('}');
            return result;
        }
    }

    private JsonArray ParseSequence(char open, char close)
    {
        _position++;
        var result = new JsonArray();
        while (true)
        {
            SkipWhitespace();
            if (Peek() == close) { _position++; return result; }
            result.Add(ParseValue());
            SkipWhitespace();
            if (Peek() == ',') { _position++; continue; }
            Expect(close);
            return result;
        }
    }

    private string ParseString()
    {
        var quote = _text[_position++];
        var builder = new StringBuilder();
        while (_position < _text.Length)
        {
            var c = _text[_position++];
            if (c == quote) return builder.ToString();
            if (c != '\\') { builder.Append(c); continue; }
            if (_position >= _text.Length) break;
            var escaped = _text[_position++];
            builder.Append(escaped switch
            {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '0' => '\0',
                _ => escaped,
            });
        }
        throw Error("unterminated string");
    }

    private JsonValue ParseNumber()
    {
        var start = _position;
        if (Peek() is '-' or '+') _position++;
        while (_position < _text.Length && (char.IsLetterOrDigit(_text[_position]) || _text[_position] is '.' or '_'
               || (_text[_position] is '-' or '+' && _text[_position - 1] is 'e' or 'E')))
        {
            _position++;
        }
        var token = _text[start.._position].Replace("_", string.Empty, StringComparison.Ordinal);
        var isFloat = token.AsSpan().IndexOfAny(".eE") >= 0 || token.Contains("inf", StringComparison.OrdinalIgnoreCase);
        if (!isFloat && long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            return JsonValue.Create(integer);
        if (isFloat && double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
            return JsonValue.Create(real);
        throw Error($"'{token}' is not a number");
    }

    private string ReadWord()
    {
        var start = _position;
        while (_position < _text.Length && (char.IsLetterOrDigit(_text[_position]) || _text[_position] == '_')) _position++;
        if (_position == start) _position++;
        return _text[start.._position];
    }

    private char? Peek() => _position < _text.Length ? _text[_position] : null;

    private void Expect(char c)
    {
        if (Peek() != c) throw Error($"'{c}' was expected");
        _position++;
    }

    private void SkipWhitespace()
    {
        while (_position < _text.Length && char.IsWhiteSpace(_text[_position])) _position++;
    }

    private AdapterConfigException Error(string problem) =>
        new($"Cannot parse {_context}: {problem} at position {_position} of \"{_text}\".");
}
