namespace Adapters.Hub.Legacy;

/// <summary>
/// A registry file is missing, unreadable or does not match its schema. The message names the file and, where
/// one is at fault, the field and what was expected.
/// </summary>
public sealed class LegacyRegistryException : Exception
{
    /// <summary>Creates the exception for <paramref name="file"/> (and <paramref name="field"/> when one is at fault).</summary>
    public LegacyRegistryException(string file, string? field, string message, Exception? innerException = null)
        : base(Compose(file, field, message), innerException)
    {
        File = file;
        Field = field;
    }

    /// <summary>The registry-relative path (or URL) of the file at fault.</summary>
    public string File { get; }

    /// <summary>The field path inside the file (e.g. <c>files[0].sha1</c>), or null when the whole file is at fault.</summary>
    public string? Field { get; }

    private static string Compose(string file, string? field, string message) =>
        field is null ? $"{file}: {message}" : $"{file}: field '{field}': {message}";
}
