namespace Adapters.Hub;

/// <summary>
/// Downloaded or cached bytes do not match what the Hub promised (size, SHA-256 for LFS files, git
/// blob SHA-1 for regular files). A download that fails this check leaves no blob in the cache.
/// </summary>
public sealed class IntegrityException : HubException
{
    /// <summary>Creates the exception naming the file and both values.</summary>
    public IntegrityException(string message, string? expected = null, string? actual = null) : base(message)
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The expected size or hash, when known.</summary>
    public string? Expected { get; }

    /// <summary>The size or hash that was found instead.</summary>
    public string? Actual { get; }

    /// <summary>True when the bytes had the right size but the wrong hash (worth one fresh download from byte 0).</summary>
    internal bool IsHashMismatch { get; init; }
}
