using Adapters.Core.Composition;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Heads;

/// <summary>
/// Which heads a forward pass runs and on which rows, as Python's <c>parse_heads_from_composition</c> derives it from
/// the adapter setup: one head; one head per <see cref="Parallel"/> child, each on its copy of the batch; or one head
/// per <see cref="BatchSplit"/> child, each on its rows.
/// </summary>
/// <param name="Heads">Head names in order.</param>
/// <param name="BatchSizes">Rows per head for a batch split; null otherwise.</param>
public sealed record HeadSetup(IReadOnlyList<string> Heads, IReadOnlyList<int>? BatchSizes = null)
{
    /// <summary>
    /// Python's <c>parse_heads_from_composition</c>: the last block of a top-level <see cref="Stack"/> decides; an
    /// adapter name gives that head (when present in <paramref name="availableHeads"/>, if given), a Parallel block one
    /// head per child (its last adapter), a BatchSplit block one head per child with the same batch sizes; anything
    /// else gives null.
    /// </summary>
    /// <exception cref="ArgumentException">A BatchSplit child has no head in <paramref name="availableHeads"/>.</exception>
    public static HeadSetup? FromComposition(AdapterCompositionBlock? setup, IReadOnlyCollection<string>? availableHeads = null)
    {
        if (setup is null) return null;
        var final = setup is Stack ? setup.Children[^1] : CompositionChild.FromBlock(setup);
        if (final.Adapter is { } single)
            return availableHeads is null || availableHeads.Contains(single) ? new HeadSetup([single]) : null;
        switch (final.Block)
        {
            case Parallel parallel:
                return new HeadSetup(parallel.Children.Select(c => c.Last()).ToArray());
            case BatchSplit batchSplit:
                var heads = batchSplit.Children.Select(c => c.Last()).ToArray();
                if (availableHeads is not null && !heads.All(availableHeads.Contains))
                    throw new ArgumentException($"Missing at least one head for the BatchSplit setup; expected heads: {string.Join(", ", heads)}.", nameof(availableHeads));
                return new HeadSetup(heads, batchSplit.BatchSizes);
            default:
                return null;
        }
    }
}
