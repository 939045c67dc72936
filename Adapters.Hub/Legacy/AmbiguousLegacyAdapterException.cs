namespace Adapters.Hub.Legacy;

/// <summary>
/// More than one index node or adapter matches the id (Python: <c>ValueError("Found multiple possible adapters
/// matching '…'.")</c>); <see cref="Candidates"/> lists what matched so the caller can be specific.
/// </summary>
public sealed class AmbiguousLegacyAdapterException : LegacyResolutionException
{
    /// <summary>Creates the exception.</summary>
    public AmbiguousLegacyAdapterException(string identifier, string message, IReadOnlyList<string> candidates)
        : base(identifier, message)
    {
        Candidates = candidates;
    }

    /// <summary>The matching <c>task/subtask</c> pairs or entry paths.</summary>
    public IReadOnlyList<string> Candidates { get; }
}
