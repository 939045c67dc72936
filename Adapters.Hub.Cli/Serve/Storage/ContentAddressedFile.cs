namespace Adapters.Hub.Cli.Serve.Storage;

/// <summary>
/// Durable writes: the bytes go to a temporary file in the target's folder, are flushed to the disk, and
/// only then renamed over the target, so a reader (or a restart after a crash) sees the old file or the
/// new one, never a torn one.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Moves a verified, already flushed file into place unless an identical one is there (content-addressed targets).</summary>
    public static void AdoptContentAddressed(string verifiedTemp, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (File.Exists(target))
        {
            File.Delete(verifiedTemp);
            return;
        }
        try
        {
            File.Move(verifiedTemp, target, overwrite: false);
        }
        catch (IOException) when (File.Exists(target))
        {
            // Another upload of the same content won the race; both copies hold the same bytes.
            File.Delete(verifiedTemp);
        }
    }
}
