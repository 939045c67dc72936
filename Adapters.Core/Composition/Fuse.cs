namespace Adapters.Core.Composition;

/// <summary>
/// Combines its children's outputs with an AdapterFusion attention layer (Python's <c>Fuse</c>); bottleneck adapters
/// only, and the fusion layer must have been added with <c>AddAdapterFusion</c>.
/// </summary>
public sealed class Fuse : AdapterCompositionBlock
{
    private readonly string? _name;

    /// <summary>Fuses <paramref name="children"/>; the fusion is named <c>"a,b,…"</c> unless <see cref="Name"/> is set.</summary>
    public Fuse(params CompositionChild[] children) : base(children) { }

    /// <summary>Fuses <paramref name="children"/>.</summary>
    public Fuse(IEnumerable<CompositionChild> children) : base(children) { }

    /// <summary>
    /// The fusion layer's name: the custom one if given, else the children's last adapter names joined by commas,
    /// as Python names it. A custom name is not saved in <c>adapter_setup.json</c> (as in Python).
    /// </summary>
    public string Name
    {
        get => _name ?? string.Join(",", Children.Select(c => c.Last()));
        init => _name = string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>Whether a custom name was given.</summary>
    public bool HasCustomName => _name is not null;

    /// <inheritdoc />
    protected override IEnumerable<string> DisplayArguments() => _name is null ? [] : [$"name={_name}"];

    /// <inheritdoc />
    protected override bool ArgumentsEqual(AdapterCompositionBlock other) => Name == ((Fuse)other).Name;
}
