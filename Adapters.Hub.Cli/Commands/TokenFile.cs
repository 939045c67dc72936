using Adapters.Hub.IO;
namespace Adapters.Hub.Cli.Commands;

/// <summary>Writes the token file as Python does: the bare token, mode 0600, in a folder of mode 0700.</summary>
internal static class TokenFile
{
    public static void Write(string path, string token)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
            else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        AtomicFile.WriteAllText(path, token, unixMode: UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
