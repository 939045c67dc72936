namespace Adapters.Hub.Legacy;

/// <summary>A legacy adapter id could not be resolved; the message names the id and why.</summary>
public class LegacyResolutionException : Exception
{
    /// <summary>Creates the exception for <paramref name="identifier"/>.</summary>
    public LegacyResolutionException(string identifier, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Identifier = identifier;
    }

    /// <summary>The id as the caller gave it.</summary>
    public string Identifier { get; }
}
