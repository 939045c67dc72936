namespace Adapters.Core.Models;

/// <summary>Adapter weights do not fit the model: keys are missing or shapes differ. The message lists them.</summary>
public sealed class AdapterLoadException : Exception
{
    /// <summary>Creates the exception with a message listing what did not fit.</summary>
    public AdapterLoadException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping the underlying error.</summary>
    public AdapterLoadException(string message, Exception innerException) : base(message, innerException) { }
}
