namespace Adapters.Core.Composition;

/// <summary>
/// One child of a composition block: an adapter name or a nested block, the two things Python allows as children.
/// Converts implicitly from both, so setups read like Python: <c>new Stack("a", new Fuse("b", "c"))</c>.
/// </summary>
public readonly record struct CompositionChild
{
    private CompositionChild(string? adapter, AdapterCompositionBlock? block)
    {
        Adapter = adapter;
        Block = block;
    }

    /// <summary>The adapter name when this child is a single adapter; otherwise null.</summary>
    public string? Adapter { get; }

    /// <summary>The nested block when this child is a block; otherwise null.</summary>
    public AdapterCompositionBlock? Block { get; }

    /// <summary>Whether this child is a single adapter name.</summary>
    public bool IsAdapter => Adapter is not null;

    /// <summary>A child naming one adapter.</summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public static CompositionChild FromAdapter(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new CompositionChild(name, null);
    }

    /// <summary>A child holding a nested block.</summary>
    public static CompositionChild FromBlock(AdapterCompositionBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        return new CompositionChild(null, block);
    }

    /// <summary>Converts an adapter name.</summary>
    public static implicit operator CompositionChild(string name) => FromAdapter(name);

    /// <summary>Converts a nested block.</summary>
    public static implicit operator CompositionChild(AdapterCompositionBlock block) => FromBlock(block);

    /// <summary>The first adapter name reached by always descending into the first child (Python's <c>first()</c>).</summary>
    public string First() => Adapter ?? Block!.First();

    /// <summary>The last adapter name reached by always descending into the last child (Python's <c>last()</c>).</summary>
    public string Last() => Adapter ?? Block!.Last();

    /// <summary>The name as written in a setup string, or the block's string form.</summary>
    public override string ToString() => Adapter ?? Block!.ToString();
}
