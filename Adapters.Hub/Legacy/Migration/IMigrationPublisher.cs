namespace Adapters.Hub.Legacy.Migration;

/// <summary>Where migrated adapters are pushed: the Hub write API, or a staging folder.</summary>
public interface IMigrationPublisher
{
    /// <summary>
    /// Repo path → lowercase hex SHA-256 of each file on <paramref name="branch"/> of <paramref name="repoId"/>, or
    /// null when the repo or branch does not exist. Used to skip versions that are already there.
    /// </summary>
    Task<IReadOnlyDictionary<string, string>?> GetFileHashesAsync(string repoId, string branch, CancellationToken cancellationToken = default);

    /// <summary>Creates the repo and branch when needed and commits <paramref name="commit"/>'s files.</summary>
    Task PublishAsync(MigrationCommit commit, CancellationToken cancellationToken = default);
}
