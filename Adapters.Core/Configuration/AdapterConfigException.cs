namespace Adapters.Core.Configuration;

/// <summary>
/// An adapter configuration (a config object, a config string or an <c>adapter_config.json</c>) is invalid.
/// The message names the field or text at fault and what was expected.
/// </summary>
public sealed class AdapterConfigException : Exception
{
    /// <summary>Creates the exception with a message naming the offending field and the expectation.</summary>
    public AdapterConfigException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping the error that made the input unreadable.</summary>
    public AdapterConfigException(string message, Exception innerException) : base(message, innerException) { }
}
