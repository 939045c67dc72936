using System.Globalization;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Composition;

/// <summary>
/// Reads an adapter setup from text. Blocks are written as calls, <c>Stack(a, Fuse(b, c))</c>, with Python's keyword
/// arguments (<c>Split(a, b, splits=[2, 4])</c>, <c>BatchSplit(a, b, batch_sizes=2)</c>,
/// <c>Average(a, b, weights=[0.7, 0.3], normalize_weights=False)</c>, <c>Fuse(a, b, name=ab)</c>); Python's repr
/// with square brackets (<c>Stack[a, b]</c>) is read too. A bare list follows Python's <c>parse_composition</c> rules
/// for lists: <c>"a"</c> is <c>Stack(a)</c>, <c>"a,b"</c> is <c>Stack(a, b)</c>, and a bracketed list inside it,
/// <c>"a,[b,c]"</c>, is a <see cref="Fuse"/>.
/// </summary>
public static class CompositionParser
{
    private static readonly string[] s_blockNames = [nameof(Stack), nameof(Fuse), nameof(Split), nameof(BatchSplit), nameof(MultiTask), nameof(Parallel), nameof(Average)];

    /// <summary>Parses <paramref name="text"/> into a setup; the result is not yet validated against a model.</summary>
    /// <exception cref="AdapterCompositionException">The text is empty or malformed; the message gives the position.</exception>
    public static AdapterCompositionBlock Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new Reader(text);
        reader.SkipSpace();
        if (reader.AtEnd) throw reader.Error("an adapter name or a block");
        var items = new List<CompositionChild> { reader.ReadTopItem() };
        while (reader.TryConsume(',')) items.Add(reader.ReadTopItem());
        reader.SkipSpace();
        if (!reader.AtEnd) throw reader.Error("',' or the end of the setup");
        // Python turns a single name into Stack(name) and a list into a Stack; a lone block stays as it is.
        return items.Count == 1 && items[0].Block is { } single ? single : new Stack(items);
    }

    private sealed class Reader(string text)
    {
        private int _pos;

        public bool AtEnd => _pos >= text.Length;

        public void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        public bool TryConsume(char c)
        {
            SkipSpace();
            if (_pos < text.Length && text[_pos] == c)
            {
                _pos++;
                return true;
            }
            return false;
        }

        public AdapterCompositionException Error(string expected)
        {
            var found = AtEnd ? "the end" : $"'{text[_pos]}'";
            return new AdapterCompositionException($"Cannot parse adapter setup \"{text}\": expected {expected} at position {_pos}, found {found}.");
        }

        public CompositionChild ReadTopItem()
        {
            SkipSpace();
            if (TryConsume('['))
            {
                // Python's list form: a list nested in the top-level list is a Fuse.
                var children = ReadChildren(']', out var kwargs);
                if (kwargs.Count > 0) throw new AdapterCompositionException($"Cannot parse adapter setup \"{text}\": a bracketed list takes adapter names only.");
                return new Fuse(children);
            }
            return ReadItem();
        }

        private CompositionChild ReadItem()
        {
            SkipSpace();
            var start = _pos;
            var name = ReadName();
            if (name.Length == 0) throw Error("an adapter name or a block");
            SkipSpace();
            var isBlock = s_blockNames.Contains(name) && _pos < text.Length && (text[_pos] == '(' || text[_pos] == '[');
            if (!isBlock) return name;
            var close = text[_pos] == '(' ? ')' : ']';
            _pos++;
            var children = ReadChildren(close, out var kwargs);
            try
            {
                return Build(name, children, kwargs);
            }
            catch (AdapterCompositionException ex)
            {
                throw new AdapterCompositionException($"Cannot parse adapter setup \"{text}\" at position {start}: {ex.Message}", ex);
            }
        }

        private List<CompositionChild> ReadChildren(char close, out Dictionary<string, string> kwargs)
        {
            var children = new List<CompositionChild>();
            kwargs = new Dictionary<string, string>(StringComparer.Ordinal);
            if (TryConsume(close)) return children;
            do
            {
                SkipSpace();
                var save = _pos;
                var key = ReadName();
                if (key.Length > 0 && TryConsume('='))
                {
                    if (!kwargs.TryAdd(key, ReadValue())) throw new AdapterCompositionException($"Cannot parse adapter setup \"{text}\": argument '{key}' is given twice.");
                    continue;
                }
                _pos = save;
                if (kwargs.Count > 0) throw Error("a keyword argument (children come before keyword arguments)");
                children.Add(ReadItem());
            }
            while (TryConsume(','));
            if (!TryConsume(close)) throw Error($"',' or '{close}'");
            return children;
        }

        private string ReadName()
        {
            var start = _pos;
            while (_pos < text.Length && !char.IsWhiteSpace(text[_pos]) && text[_pos] is not (',' or '(' or ')' or '[' or ']' or '=')) _pos++;
            var name = text[start.._pos];
            return name.Length >= 2 && name[0] is '\'' or '"' && name[^1] == name[0] ? name[1..^1] : name;
        }

        private string ReadValue()
        {
            SkipSpace();
            if (_pos < text.Length && text[_pos] == '[')
            {
                var end = text.IndexOf(']', _pos);
                if (end < 0) throw Error("']' closing the list");
                var value = text[_pos..(end + 1)];
                _pos = end + 1;
                return value;
            }
            var start = _pos;
            var raw = ReadName();
            if (raw.Length == 0) { _pos = start; throw Error("a value"); }
            return raw;
        }

        private static AdapterCompositionBlock Build(string block, List<CompositionChild> children, Dictionary<string, string> kwargs)
        {
            var known = block switch
            {
                nameof(Split) => new[] { "splits" },
                nameof(BatchSplit) => ["batch_sizes"],
                nameof(Average) => ["weights", "normalize_weights"],
                nameof(Fuse) => ["name"],
                _ => [],
            };
            foreach (var key in kwargs.Keys)
                if (!known.Contains(key))
                    throw new AdapterCompositionException($"{block} has no argument '{key}'{(known.Length > 0 ? $"; expected {string.Join(" or ", known)}" : "")}.");
            var array = children.ToArray();
            switch (block)
            {
                case nameof(Stack): return new Stack(array);
                case nameof(Parallel): return new Parallel(array);
                case nameof(MultiTask): return new MultiTask(array);
                case nameof(Fuse): return kwargs.TryGetValue("name", out var fuseName) ? new Fuse(array) { Name = fuseName } : new Fuse(array);
                case nameof(Split):
                    return new Split(Sizes(Required(kwargs, "splits", block), array.Length, "splits"), array);
                case nameof(BatchSplit):
                    return new BatchSplit(Sizes(Required(kwargs, "batch_sizes", block), array.Length, "batch_sizes"), array);
                default:
                    var weights = kwargs.TryGetValue("weights", out var w) && w != "None" ? Numbers(w, "weights").ToArray() : null;
                    var normalize = !kwargs.TryGetValue("normalize_weights", out var n) || ParseBool(n);
                    return new Average(weights, normalize, array);
            }
        }

        private static string Required(Dictionary<string, string> kwargs, string key, string block) =>
            kwargs.TryGetValue(key, out var value) ? value : throw new AdapterCompositionException($"{block} needs the argument '{key}'.");

        private static int[] Sizes(string value, int children, string key)
        {
            var numbers = Numbers(value, key);
            if (!value.StartsWith('[')) return Enumerable.Repeat(ToInt(numbers[0], key), children).ToArray();
            return numbers.Select(x => ToInt(x, key)).ToArray();
        }

        private static int ToInt(double value, string key) =>
            value == Math.Floor(value) && Math.Abs(value) < int.MaxValue ? (int)value : throw new AdapterCompositionException($"'{key}' must hold integers, got {value.ToString(CultureInfo.InvariantCulture)}.");

        private static List<double> Numbers(string value, string key)
        {
            var body = value.StartsWith('[') ? value[1..^1] : value;
            var result = new List<double>();
            foreach (var part in body.Split(',', StringSplitOptions.TrimEntries))
            {
                if (part.Length == 0) continue;
                if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                    throw new AdapterCompositionException($"'{key}' must hold numbers, got \"{part}\".");
                result.Add(number);
            }
            if (result.Count == 0) throw new AdapterCompositionException($"'{key}' is empty.");
            return result;
        }

        private static bool ParseBool(string value) => value switch
        {
            "True" or "true" => true,
            "False" or "false" => false,
            _ => throw new AdapterCompositionException($"'normalize_weights' must be True or False, got \"{value}\"."),
        };
    }
}
