using Adapters.Hub.IO;

namespace Adapters.Hub.Auth;

/// <summary>
/// Writes a secret as Python's <c>_write_secret</c> does: mode 0600 in a folder of mode 0700 (both ignored
/// on Windows), through <see cref="AtomicFile"/>, so a reader never sees half a token.
/// </summary>
internal static class SecretFile
{
    public static void Write(string path, string content)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
            else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        AtomicFile.WriteAllText(path, content, unixMode: UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
