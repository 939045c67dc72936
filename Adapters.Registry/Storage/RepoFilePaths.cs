using Adapters.Hub.Cache;

namespace Adapters.Registry.Storage;

/// <summary>
/// Which paths a commit may create. The rule is the Hub client's own (<see cref="RepoPaths.IsSafe"/>:
/// relative, '/'-separated, no '.', '..' or empty segments, no drive letter such as <c>C:/x</c>), so
/// every file the registry accepts can be pulled again; on top of it the registry keeps a length limit
/// and refuses control characters (they would reach terminals through listings) and git's own <c>.git</c> folder.
/// </summary>
internal static class RepoFilePaths
{
    /// <summary>The longest path accepted.</summary>
    public const int MaxLength = 1000;

    public static string Validate(string? path, string field = "path")
    {
        if (string.IsNullOrEmpty(path) || path.Length > MaxLength)
        {
            throw RegistryException.BadRequest($"'{field}' must be a non-empty path of at most {MaxLength} characters.");
        }
        if (!RepoPaths.IsSafe(path) || path.Any(char.IsControl) || path.Split('/')[0] == ".git")
        {
            throw RegistryException.BadRequest($"'{Printable(path)}' is not a valid path in a repository: use '/'-separated names without a drive, '.', '..', empty parts, control characters or '.git'.");
        }
        return path;
    }

    private static string Printable(string path) =>
        string.Concat(path.Take(200).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
