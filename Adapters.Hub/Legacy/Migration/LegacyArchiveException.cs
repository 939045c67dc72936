namespace Adapters.Hub.Legacy.Migration;

/// <summary>A legacy zip is unsafe or unusable: a checksum mismatch, a path escaping the folder, a size limit, a missing file.</summary>
public sealed class LegacyArchiveException : Exception
{
    /// <summary>Creates the exception; <paramref name="source"/> is the zip's URL or path.</summary>
    public LegacyArchiveException(string source, string message, Exception? innerException = null)
        : base($"{source}: {message}", innerException)
    {
        Source = source;
    }

    /// <summary>The zip's URL or path.</summary>
    public new string Source { get; }
}
