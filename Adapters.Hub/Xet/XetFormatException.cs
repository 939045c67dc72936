namespace Adapters.Hub.Xet;

/// <summary>
/// Xet data (a hash string, a serialised xorb, a compressed chunk) is malformed or exceeds a limit. The message names
/// what was read, where, and what was expected.
/// </summary>
public sealed class XetFormatException : HubException
{
    /// <summary>Creates the exception with a message naming the input and the expectation it broke.</summary>
    public XetFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the decoder failure that caused it.</summary>
    public XetFormatException(string message, Exception? innerException) : base(message, innerException) { }
}
