namespace Adapters.Hub.Legacy;

/// <summary>
/// No index entry matches the id (Python: <c>EnvironmentError("No adapter with name '…' was found in the adapter
/// index.")</c> or <c>ValueError("No adapter '…' found for the current model or configuration.")</c>).
/// </summary>
public sealed class LegacyAdapterNotFoundException : LegacyResolutionException
{
    /// <summary>Creates the exception.</summary>
    public LegacyAdapterNotFoundException(string identifier, string message)
        : base(identifier, message)
    {
    }
}
