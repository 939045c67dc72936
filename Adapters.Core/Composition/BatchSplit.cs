using System.Text.Json.Nodes;

namespace Adapters.Core.Composition;

/// <summary>
/// Splits the batch (Python's <c>BatchSplit</c>): child i gets the next <c>batchSizes[i]</c> rows; the sizes must add
/// up to the batch size. A child with no module at a layer passes its rows through unchanged; heads named after the
/// children get their rows.
/// </summary>
public sealed class BatchSplit : AdapterCompositionBlock
{
    /// <summary>Splits into the given row counts, one per child.</summary>
    /// <exception cref="AdapterCompositionException">The sizes do not match the children or are negative.</exception>
    public BatchSplit(IReadOnlyList<int> batchSizes, params CompositionChild[] children) : base(children)
    {
        ArgumentNullException.ThrowIfNull(batchSizes);
        BatchSizes = CompositionRules.CheckSizes(batchSizes, Children.Count, nameof(BatchSplit), "batch_sizes");
    }

    /// <summary>Gives every child <paramref name="batchSize"/> rows (Python's int form).</summary>
    public BatchSplit(int batchSize, params CompositionChild[] children) : this(Enumerable.Repeat(batchSize, children.Length).ToArray(), children) { }

    /// <summary>Rows per child.</summary>
    public IReadOnlyList<int> BatchSizes { get; }

    /// <inheritdoc />
    protected override JsonObject? SaveArguments() => new() { ["batch_sizes"] = new JsonArray(BatchSizes.Select(s => (JsonNode)(long)s).ToArray()) };

    /// <inheritdoc />
    protected override IEnumerable<string> DisplayArguments() => [$"batch_sizes=[{string.Join(", ", BatchSizes)}]"];

    /// <inheritdoc />
    protected override bool ArgumentsEqual(AdapterCompositionBlock other) => BatchSizes.SequenceEqual(((BatchSplit)other).BatchSizes);
}
