namespace Adapters.Hub.Yaml;

/// <summary>
/// Bounds on the YAML this library parses (model card front matter, legacy registry cards), checked on the
/// parser's event stream before any node tree is built, so deep nesting cannot overflow the stack and anchors
/// reused by aliases cannot expand into billions of nodes. Exceeding one is reported as invalid YAML naming the
/// limit (<see cref="Cards.ModelCardException"/> or <see cref="Legacy.LegacyRegistryException"/>).
/// </summary>
public sealed record YamlLimits
{
    /// <summary>The defaults.</summary>
    public static YamlLimits Default { get; } = new();

    /// <summary>Longest YAML text in characters. Default 8,388,608 (8 Mi).</summary>
    public int MaxCharacters { get; init; } = 8 << 20;

    /// <summary>Deepest nesting of mappings and sequences. Default 128.</summary>
    public int MaxDepth { get; init; } = 128;

    /// <summary>
    /// Most nodes once every alias is expanded to the node its anchor names (what a consumer walking the tree
    /// visits). Default 200,000.
    /// </summary>
    public long MaxExpandedNodes { get; init; } = 200_000;
}
