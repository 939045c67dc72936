using System.Text.Json.Nodes;

namespace Adapters.Core.Composition;

/// <summary>
/// Splits the input along the sequence axis (Python's <c>Split</c>): child i gets <c>splits[i]</c> consecutive
/// positions; the sizes must add up to the sequence length. Bottleneck adapters only.
/// </summary>
public sealed class Split : AdapterCompositionBlock
{
    /// <summary>Splits into the given sizes, one per child.</summary>
    /// <exception cref="AdapterCompositionException">The sizes do not match the children or are negative.</exception>
    public Split(IReadOnlyList<int> splits, params CompositionChild[] children) : base(children)
    {
        ArgumentNullException.ThrowIfNull(splits);
        Splits = CompositionRules.CheckSizes(splits, Children.Count, nameof(Split), "splits");
    }

    /// <summary>Gives every child <paramref name="split"/> positions (Python's int form).</summary>
    public Split(int split, params CompositionChild[] children) : this(Enumerable.Repeat(split, children.Length).ToArray(), children) { }

    /// <summary>Positions per child.</summary>
    public IReadOnlyList<int> Splits { get; }

    /// <inheritdoc />
    protected override JsonObject? SaveArguments() => new() { ["splits"] = new JsonArray(Splits.Select(s => (JsonNode)(long)s).ToArray()) };

    /// <inheritdoc />
    protected override IEnumerable<string> DisplayArguments() => [$"splits=[{string.Join(", ", Splits)}]"];

    /// <inheritdoc />
    protected override bool ArgumentsEqual(AdapterCompositionBlock other) => Splits.SequenceEqual(((Split)other).Splits);
}
