namespace Adapters.Hub.Legacy;

/// <summary>Checks registry-relative paths so that no id or index value can address a file outside the registry.</summary>
internal static class RegistryPaths
{
    public static string Normalize(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var trimmed = path.Replace('\\', '/').Trim('/');
        var segments = trimmed.Split('/');
        if (trimmed.Length == 0 || segments.Any(s => s.Length == 0 || s == "." || s == "..") || Path.IsPathRooted(path))
        {
            throw new ArgumentException($"'{path}' is not a relative path inside the registry.", nameof(path));
        }
        return trimmed;
    }
}
