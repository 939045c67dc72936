using System.Globalization;
using System.Text.Json.Nodes;

namespace Adapters.Core.Composition;

/// <summary>
/// Averages its children's outputs (Python's <c>Average</c>): every child runs on the same input and the outputs are
/// combined with <see cref="Weights"/> as <see cref="Reduction"/> says. For bottleneck sites the averaged state is the
/// full adapter output (residual included); for LoRA-family sites it is the contribution δ.
/// </summary>
public sealed class Average : AdapterCompositionBlock
{
    /// <summary>Averages <paramref name="children"/> with equal weights 1/N.</summary>
    public Average(params CompositionChild[] children) : this(null, true, children) { }

    /// <summary>
    /// Averages with <paramref name="weights"/> (one per child), divided by their sum when
    /// <paramref name="normalizeWeights"/> (Python's default); null means 1/N each.
    /// </summary>
    /// <exception cref="AdapterCompositionException">The weights do not match the children or sum to zero when normalised.</exception>
    public Average(IReadOnlyList<double>? weights, bool normalizeWeights, params CompositionChild[] children) : base(children)
    {
        if (weights is null)
        {
            Weights = Enumerable.Repeat(1.0 / Children.Count, Children.Count).ToArray();
            return;
        }
        if (weights.Count != Children.Count)
            throw new AdapterCompositionException($"Average has {Children.Count} children but {weights.Count} weights; give one weight per child.");
        var sum = weights.Sum();
        if (normalizeWeights && sum == 0)
            throw new AdapterCompositionException("Average weights sum to 0 and cannot be normalised; pass normalizeWeights: false or other weights.");
        Weights = normalizeWeights ? weights.Select(w => w / sum).ToArray() : weights.ToArray();
    }

    /// <summary>The weights after normalisation, one per child.</summary>
    public IReadOnlyList<double> Weights { get; }

    /// <summary>How the weighted outputs are reduced; defaults to Python's <see cref="AverageReduction.PythonMean"/>.</summary>
    public AverageReduction Reduction { get; init; } = AverageReduction.PythonMean;

    /// <summary>The factor applied to each weighted child output: <c>wᵢ/N</c> for Python's mean, <c>wᵢ</c> for a sum.</summary>
    public double EffectiveWeight(int child) =>
        Reduction == AverageReduction.PythonMean ? Weights[child] / Children.Count : Weights[child];

    /// <inheritdoc />
    protected override JsonObject? SaveArguments() => new() { ["weights"] = new JsonArray(Weights.Select(w => (JsonNode)w).ToArray()) };

    /// <inheritdoc />
    protected override IEnumerable<string> DisplayArguments() =>
        [$"weights=[{string.Join(", ", Weights.Select(w => w.ToString("R", CultureInfo.InvariantCulture)))}]", "normalize_weights=False"];

    /// <inheritdoc />
    protected override bool ArgumentsEqual(AdapterCompositionBlock other) =>
        Weights.SequenceEqual(((Average)other).Weights) && Reduction == ((Average)other).Reduction;
}
