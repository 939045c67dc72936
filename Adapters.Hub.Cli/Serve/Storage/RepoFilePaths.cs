namespace Adapters.Hub.Cli.Serve.Storage;

/// <summary>Which paths a commit may create: relative, '/'-separated, without '.', '..', empty segments or git internals.</summary>
internal static class RepoFilePaths
{
    public static string Validate(string? path, string field = "path")
    {
        if (string.IsNullOrEmpty(path) || path.Length > 1000)
        {
            throw RegistryException.BadRequest($"'{field}' must be a non-empty path of at most 1000 characters.");
        }
        var segments = path.Split('/');
        if (path.Contains('\\', StringComparison.Ordinal) || path.Any(char.IsControl)
            || segments.Any(s => s.Length == 0 || s == "." || s == "..") || segments[0] == ".git")
        {
            throw RegistryException.BadRequest($"'{path}' is not a valid path in a repository: use '/'-separated names without '.', '..', empty parts or '.git'.");
        }
        return path;
    }
}
