namespace Adapters.Registry.Storage;

/// <summary>
/// Files named by their own hash (git blobs, LFS objects): once one is there it never changes, so a verified
/// copy is moved into place only when no identical one exists yet.
/// </summary>
internal static class ContentAddressedFile
{
    /// <summary>Moves a verified, already flushed file into place unless an identical one is there.</summary>
    public static void Adopt(string verifiedTemp, string target)
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
