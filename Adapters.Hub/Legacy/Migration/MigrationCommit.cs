namespace Adapters.Hub.Legacy.Migration;

/// <summary>One commit a <see cref="IMigrationPublisher"/> makes: the files of one version on one branch.</summary>
public sealed class MigrationCommit
{
    /// <summary>The target repo (<c>ORG/name</c>).</summary>
    public required string RepoId { get; init; }

    /// <summary>The branch; created from <c>main</c> when missing.</summary>
    public required string Branch { get; init; }

    /// <summary>Repo path → local file to upload.</summary>
    public required IReadOnlyDictionary<string, string> Files { get; init; }

    /// <summary>Repo path → lowercase hex SHA-256 of that file.</summary>
    public required IReadOnlyDictionary<string, string> Sha256 { get; init; }

    /// <summary>The commit message.</summary>
    public required string Message { get; init; }
}
