namespace Adapters.Core.Tests.Goldens;

/// <summary>How a golden case ended here.</summary>
internal enum OutcomeKind
{
    /// <summary>Every output within <see cref="GoldenOutcome.Tolerance"/>, no missing or unexpected keys, counts equal.</summary>
    Passed,

    /// <summary>We refused with a typed exception (ours, or an argument/not-supported error naming why).</summary>
    Refused,

    /// <summary>It ran but something differs from Python: an output beyond tolerance, a key or a count.</summary>
    Wrong,

    /// <summary>An untyped failure (a native or internal error): never acceptable.</summary>
    Crashed,
}

/// <summary>The outcome of running one golden case, with what differed or why it was refused.</summary>
internal sealed record GoldenOutcome(OutcomeKind Kind, string Detail, double MaxAbsDiff = 0)
{
    /// <summary>The largest absolute difference from Python's float32 outputs that counts as equal.</summary>
    public const double Tolerance = 1e-5;

    public static GoldenOutcome FromException(Exception ex) =>
        IsTyped(ex)
            ? new GoldenOutcome(OutcomeKind.Refused, $"{ex.GetType().Name}: {ex.Message}")
            : new GoldenOutcome(OutcomeKind.Crashed, ex.ToString());

    /// <summary>
    /// A refusal that names its reason: one of this project's exception types, or the framework's argument and
    /// not-supported errors the library throws for what it does not offer.
    /// </summary>
    public static bool IsTyped(Exception ex) =>
        ex.GetType().Namespace?.StartsWith("Adapters.", StringComparison.Ordinal) == true
        || ex is ArgumentException or NotSupportedException;

    public override string ToString() => Kind switch
    {
        OutcomeKind.Passed => $"passed (max abs diff {MaxAbsDiff:G3})",
        OutcomeKind.Wrong => $"wrong (max abs diff {MaxAbsDiff:G3}): {Detail}",
        _ => $"{Kind.ToString().ToLowerInvariant()}: {Detail}",
    };
}
