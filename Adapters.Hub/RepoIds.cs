using System.Text.RegularExpressions;

namespace Adapters.Hub;

/// <summary>Validation and cache naming of Hub repository ids (<c>name</c> or <c>org/name</c>).</summary>
public static partial class RepoIds
{
    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="repoId"/> is <c>name</c> or <c>org/name</c>
    /// made of letters, digits, <c>-</c>, <c>_</c> and <c>.</c>, without <c>--</c> or <c>..</c> (Python's
    /// <c>validate_repo_id</c>); those two are reserved because the cache folder name joins parts with <c>--</c>.
    /// </summary>
    public static void Validate(string repoId)
    {
        ArgumentNullException.ThrowIfNull(repoId);
        if (!RepoIdPattern().IsMatch(repoId) || repoId.Contains("--", StringComparison.Ordinal) || repoId.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"Invalid repository id '{repoId}': expected 'name' or 'org/name' of letters, digits, '-', '_' and '.', at most 96 characters per part, without '--' or '..'.",
                nameof(repoId));
        }
    }

    /// <summary>The cache folder of a repository: <c>models--org--name</c> (Python's <c>repo_folder_name</c>).</summary>
    public static string FolderName(string repoId, RepoType repoType)
    {
        Validate(repoId);
        return repoType.ApiSegment() + "--" + repoId.Replace("/", "--", StringComparison.Ordinal);
    }

    /// <summary>Reverses <see cref="FolderName"/>; false for names that are not a repository folder.</summary>
    public static bool TryParseFolderName(string folderName, out string repoId, out RepoType repoType)
    {
        repoId = "";
        repoType = RepoType.Model;
        var parts = folderName.Split("--");
        if (parts.Length is < 2 or > 3) return false;
        switch (parts[0])
        {
            case "models": repoType = RepoType.Model; break;
            case "datasets": repoType = RepoType.Dataset; break;
            case "spaces": repoType = RepoType.Space; break;
            default: return false;
        }
        repoId = string.Join('/', parts[1..]);
        return RepoIdPattern().IsMatch(repoId);
    }

    [GeneratedRegex(@"^(?:[\w\-.]{1,96}/)?[\w\-.]{1,96}$", RegexOptions.CultureInvariant)]
    private static partial Regex RepoIdPattern();
}
