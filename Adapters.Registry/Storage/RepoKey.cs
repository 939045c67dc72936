using System.Text.RegularExpressions;

namespace Adapters.Registry.Storage;

/// <summary>A repository's identity: its type and its id (<c>name</c> or <c>namespace/name</c>).</summary>
internal sealed partial record RepoKey(RepoType Type, string Id)
{
    /// <summary>The on-disk folder name; <c>--</c> cannot occur in an id, so it separates namespace and name.</summary>
    public string FolderName => Id.Replace("/", "--", StringComparison.Ordinal);

    public string? Namespace => Id.Contains('/', StringComparison.Ordinal) ? Id[..Id.IndexOf('/', StringComparison.Ordinal)] : null;

    public override string ToString() => Type == RepoType.Model ? Id : $"{Type.ApiSegment()}/{Id}";

    public static bool IsValidSegment(string segment) =>
        segment.Length is > 0 and <= 96 && SegmentPattern().IsMatch(segment) && !segment.Contains("--", StringComparison.Ordinal)
        && !segment.Contains("..", StringComparison.Ordinal) && !segment.EndsWith(".git", StringComparison.Ordinal);

    /// <summary>Parses <paramref name="id"/>, refusing anything that is not a Hub repository id.</summary>
    public static RepoKey Parse(RepoType type, string id)
    {
        var segments = id.Split('/');
        if (segments.Length is < 1 or > 2 || !segments.All(IsValidSegment))
        {
            throw RegistryException.BadRequest($"'{id}' is not a valid repository id; expected 'name' or 'namespace/name' with letters, digits, '-', '_' and '.'.");
        }
        return new RepoKey(type, id);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex SegmentPattern();
}
