namespace Adapters.Hub.Cache;

/// <summary>
/// Checks that a repository-relative path (from the user or from the server) stays inside a snapshot:
/// no <c>..</c> segments, no absolute or drive-rooted forms, no backslashes, no empty segments.
/// </summary>
public static class RepoPaths
{
    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="path"/> could escape the snapshot folder.</summary>
    /// <param name="path">The path inside the repository, with <c>/</c> separators.</param>
    /// <param name="source">Where the path came from, for the message (e.g. "the tree listing of org/name").</param>
    public static string Validate(string path, string source = "the caller")
    {
        if (!IsSafe(path))
        {
            throw new ArgumentException(
                $"Refusing repository path '{path}' from {source}: it must be relative, use '/' separators and contain no '..', '.' or empty segments, so that it stays inside the snapshot folder.",
                nameof(path));
        }
        return path;
    }

    /// <summary>Whether <paramref name="path"/> is a safe relative path (see <see cref="Validate"/>).</summary>
    public static bool IsSafe(string? path)
    {
        if (string.IsNullOrEmpty(path)) return false;
        if (path.Contains('\\', StringComparison.Ordinal) || path.Contains('\0', StringComparison.Ordinal)) return false;
        if (path.StartsWith('/') || (path.Length >= 2 && path[1] == ':')) return false;
        foreach (var segment in path.Split('/'))
        {
            if (segment is "" or "." or "..") return false;
        }
        return true;
    }

    /// <summary>A revision name as a path under <c>refs/</c> (<c>refs/pr/1</c> nests); refuses escaping names.</summary>
    public static string ValidateRevision(string revision)
    {
        if (!IsSafe(revision))
        {
            throw new ArgumentException($"Invalid revision '{revision}': a branch, tag or commit cannot be empty, absolute or contain '..', '.' or backslash segments.", nameof(revision));
        }
        return revision;
    }
}
