namespace Adapters.Core.Composition;

/// <summary>How an <see cref="Average"/> block reduces its children's weighted outputs.</summary>
public enum AverageReduction
{
    /// <summary>
    /// Python's literal <c>torch.mean(stack(states) · w, dim=0)</c>, i.e. <c>(1/N)·Σ wᵢ·stateᵢ</c>. With the default
    /// normalised weights this scales the result by an extra 1/N; it is the default so outputs match Python.
    /// </summary>
    PythonMean,

    /// <summary>The weighted sum <c>Σ wᵢ·stateᵢ</c>, a true weighted average when the weights sum to 1.</summary>
    WeightedSum,
}
