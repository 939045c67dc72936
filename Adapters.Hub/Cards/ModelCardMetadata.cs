using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Adapters.Hub.Cards;

/// <summary>
/// The YAML front matter of a model card. Keys this type does not know about, their order and their
/// scalar styles are kept, so refreshing a card written by someone else loses nothing.
/// </summary>
public sealed class ModelCardMetadata
{
    private readonly YamlMappingNode _root;

    internal ModelCardMetadata(YamlMappingNode root)
    {
        _root = root;
    }

    /// <summary>Creates empty metadata.</summary>
    public ModelCardMetadata()
        : this(new YamlMappingNode())
    {
    }

    /// <summary>Whether any setter changed the metadata since it was parsed.</summary>
    public bool IsModified { get; private set; }

    /// <summary>Top-level keys in document order.</summary>
    public IReadOnlyList<string> Keys =>
        _root.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList();

    /// <summary>Whether the front matter has no keys.</summary>
    public bool IsEmpty => _root.Children.Count == 0;

    /// <summary>The model's tags (<c>tags:</c>).</summary>
    public IReadOnlyList<string> Tags => GetList("tags");

    /// <summary>A scalar value, or null when the key is absent or not a scalar.</summary>
    public string? GetString(string key) =>
        _root.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlScalarNode scalar ? scalar.Value : null;

    /// <summary>
    /// A list value. A scalar counts as a one-item list, as the Hub reads <c>language: en</c> the same as
    /// <c>language: [en]</c>.
    /// </summary>
    public IReadOnlyList<string> GetList(string key)
    {
        if (!_root.Children.TryGetValue(new YamlScalarNode(key), out var node)) return [];
        return node switch
        {
            YamlSequenceNode sequence => sequence.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "").ToList(),
            YamlScalarNode { Value: { Length: > 0 } value } => [value],
            _ => [],
        };
    }

    /// <summary>Sets a scalar; a null value removes the key.</summary>
    /// <param name="key">Top-level key.</param>
    /// <param name="value">The value.</param>
    /// <param name="quoted">Write the value double-quoted, as Python's adapter card writes <c>license</c>.</param>
    public void SetString(string key, string? value, bool quoted = false)
    {
        if (value is null)
        {
            Remove(key);
            return;
        }
        if (GetString(key) == value) return;
        var node = new YamlScalarNode(value) { Style = quoted ? ScalarStyle.DoubleQuoted : ScalarStyle.Any };
        _root.Children[new YamlScalarNode(key)] = node;
        IsModified = true;
    }

    /// <summary>Sets a list; null or empty removes the key.</summary>
    public void SetList(string key, IEnumerable<string>? values)
    {
        var items = values?.ToList() ?? [];
        if (items.Count == 0)
        {
            Remove(key);
            return;
        }
        if (_root.Children.TryGetValue(new YamlScalarNode(key), out var existing) && existing is YamlSequenceNode
            && GetList(key).SequenceEqual(items, StringComparer.Ordinal))
        {
            return;
        }
        _root.Children[new YamlScalarNode(key)] = new YamlSequenceNode(items.Select(i => new YamlScalarNode(i)));
        IsModified = true;
    }

    /// <summary>Adds values to a list key, keeping the existing ones first and dropping duplicates.</summary>
    public void AddToList(string key, IEnumerable<string> values)
    {
        var merged = GetList(key).ToList();
        foreach (var value in values)
        {
            if (!merged.Contains(value, StringComparer.Ordinal)) merged.Add(value);
        }
        SetList(key, merged);
    }

    /// <summary>Removes a key if present.</summary>
    public void Remove(string key)
    {
        if (_root.Children.Remove(new YamlScalarNode(key))) IsModified = true;
    }

    /// <summary>The YAML text, without the <c>---</c> fences and with a trailing newline.</summary>
    public string ToYaml()
    {
        if (IsEmpty) return "";
        using var writer = new StringWriter { NewLine = "\n" };
        new YamlStream(new YamlDocument(_root)).Save(writer, assignAnchors: false);
        var text = writer.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
        // YamlStream ends every document with an explicit "..." marker, which front matter must not have.
        const string documentEnd = "...\n";
        if (text.EndsWith(documentEnd, StringComparison.Ordinal)) text = text[..^documentEnd.Length];
        return text;
    }
}
