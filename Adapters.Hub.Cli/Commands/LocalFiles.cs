namespace Adapters.Hub.Cli.Commands;

/// <summary>Checks on local paths named on the command line, so that a typo is "not found" (exit 2), not "corrupt".</summary>
internal static class LocalFiles
{
    /// <summary>Throws <see cref="FileNotFoundException"/> naming <paramref name="path"/> when no file or folder is there.</summary>
    public static void RequireFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path) && !Directory.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
    }
}
