namespace Adapters.Hub.Upload;

/// <summary>Checks paths that are sent to the Hub as file names inside a repository.</summary>
internal static class RepoPath
{
    /// <summary>Forward slashes, no leading <c>./</c> or <c>/</c>, and no <c>..</c> or empty segments.</summary>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var normalized = path.Replace('\\', '/');
        while (normalized.StartsWith("./", StringComparison.Ordinal)) normalized = normalized[2..];
        var trimmed = normalized.TrimEnd('/');
        if (trimmed.Length == 0 || normalized.StartsWith('/') || trimmed.Split('/').Any(s => s is "" or "." or ".."))
        {
            throw new ArgumentException($"'{path}' is not a valid path inside a repository: use a relative path without '..' or empty segments.", nameof(path));
        }
        return normalized;
    }
}
