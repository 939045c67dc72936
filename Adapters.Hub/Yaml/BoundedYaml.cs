using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Adapters.Hub.Yaml;

/// <summary>
/// Loads YAML into YamlDotNet's representation model only after one pass over the parser's events has checked it
/// against <see cref="YamlLimits"/>: the pass keeps its own stack (YamlDotNet's node builder recurses once per
/// nesting level) and counts each alias as the size of the node its anchor names.
/// </summary>
internal static class BoundedYaml
{
    /// <summary>Checks <paramref name="text"/> against <paramref name="limits"/>, then loads it.</summary>
    /// <exception cref="YamlException">The text is not valid YAML or exceeds a limit (the message names it).</exception>
    public static YamlStream Load(string text, YamlLimits? limits)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            Check(text, limits ?? YamlLimits.Default);
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream;
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet's scanner reports some malformed input as an internal inconsistency, not a YamlException.
            throw new YamlException(Mark.Empty, Mark.Empty, "malformed YAML: " + ex.Message, ex);
        }
    }

    private static void Check(string text, YamlLimits limits)
    {
        if (text.Length > limits.MaxCharacters)
        {
            throw new YamlException(Mark.Empty, Mark.Empty,
                $"{text.Length} characters of YAML (limit YamlLimits.{nameof(YamlLimits.MaxCharacters)} = {limits.MaxCharacters})");
        }
        var parser = new Parser(new StringReader(text));
        // Each open collection: its anchor and the expanded size of what it holds so far.
        var open = new Stack<(string? Anchor, long Nodes)>();
        var anchors = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0;

        void AddToOpen(long nodes)
        {
            if (open.Count == 0) return;
            var (anchor, count) = open.Pop();
            open.Push((anchor, count + nodes));
        }

        void Add(long nodes, ParsingEvent at)
        {
            total = nodes > limits.MaxExpandedNodes ? long.MaxValue : total + nodes;
            if (total > limits.MaxExpandedNodes)
            {
                throw new YamlException(at.Start, at.End,
                    $"more than {limits.MaxExpandedNodes} nodes once aliases are expanded (limit YamlLimits.{nameof(YamlLimits.MaxExpandedNodes)} = {limits.MaxExpandedNodes})");
            }
            AddToOpen(nodes);
        }

        while (parser.MoveNext())
        {
            var current = parser.Current!;
            switch (current)
            {
                case Scalar scalar:
                    Add(1, current);
                    if (!scalar.Anchor.IsEmpty) anchors[scalar.Anchor.Value] = 1;
                    break;
                case AnchorAlias alias:
                    if (!anchors.TryGetValue(alias.Value.Value, out var size))
                    {
                        throw new YamlException(current.Start, current.End,
                            $"alias *{alias.Value.Value} refers to an anchor that is not defined before it (or is the collection it sits in)");
                    }
                    Add(size, current);
                    break;
                case NodeEvent { } start when current is SequenceStart or MappingStart:
                    if (open.Count >= limits.MaxDepth)
                    {
                        throw new YamlException(current.Start, current.End,
                            $"collections nested more than {limits.MaxDepth} deep (limit YamlLimits.{nameof(YamlLimits.MaxDepth)} = {limits.MaxDepth})");
                    }
                    Add(1, current);
                    open.Push((start.Anchor.IsEmpty ? null : start.Anchor.Value, 0));
                    break;
                case SequenceEnd or MappingEnd:
                    {
                        var (anchor, nodes) = open.Pop();
                        if (anchor is not null) anchors[anchor] = nodes + 1;
                        // Its nodes are in the total already; the enclosing collection now holds them too.
                        AddToOpen(nodes);
                        break;
                    }
            }
        }
    }
}
