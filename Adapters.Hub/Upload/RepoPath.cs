using Adapters.Hub.Cache;

namespace Adapters.Hub.Upload;

/// <summary>Turns a caller's path into the form commits send: forward slashes, no leading <c>./</c>.</summary>
internal static class RepoPath
{
    /// <summary>Normalizes, then applies the same safety rule as downloads (<see cref="RepoPaths.Validate"/>); a trailing <c>/</c> is kept.</summary>
    public static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var normalized = path.Replace('\\', '/');
        while (normalized.StartsWith("./", StringComparison.Ordinal)) normalized = normalized[2..];
        RepoPaths.Validate(normalized.TrimEnd('/'), "the commit's operations");
        return normalized;
    }
}
