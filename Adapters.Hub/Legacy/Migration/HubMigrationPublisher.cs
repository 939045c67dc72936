using System.Security.Cryptography;
using Adapters.Hub.Upload;

namespace Adapters.Hub.Legacy.Migration;

/// <summary>Publishes migrated adapters through the Hub write API: repository, branch, then one commit per version.</summary>
public sealed class HubMigrationPublisher : IMigrationPublisher
{
    private readonly HubClient _hub;
    private readonly bool _private;

    /// <summary>Publishes with <paramref name="hub"/>; new repositories are private when <paramref name="isPrivate"/> is set.</summary>
    public HubMigrationPublisher(HubClient hub, bool isPrivate = false)
    {
        ArgumentNullException.ThrowIfNull(hub);
        _hub = hub;
        _private = isPrivate;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, string>?> GetFileHashesAsync(string repoId, string branch, CancellationToken cancellationToken = default)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            await foreach (var entry in _hub.Repositories.ListRepoTreeAsync(repoId, branch, recursive: true, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (!entry.IsFile) continue;
                if (entry.Lfs is { } lfs)
                {
                    hashes[entry.Path] = lfs.Oid;
                    continue;
                }
                // Regular files are addressed by git SHA-1; their SHA-256 needs the (small) content.
                var local = await _hub.Files.DownloadFileAsync(repoId, entry.Path, branch, cancellationToken: cancellationToken).ConfigureAwait(false);
                var stream = File.OpenRead(local);
                await using (stream.ConfigureAwait(false))
                {
                    hashes[entry.Path] = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
                }
            }
        }
        catch (Exception ex) when (ex is RepositoryNotFoundException or RevisionNotFoundException)
        {
            return null;
        }
        return hashes;
    }

    /// <inheritdoc />
    public async Task PublishAsync(MigrationCommit commit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(commit);
        await _hub.Repositories.CreateRepoAsync(commit.RepoId, RepoType.Model, _private, existOk: true, cancellationToken).ConfigureAwait(false);
        if (commit.Branch != "main")
        {
            await _hub.Repositories.CreateBranchAsync(commit.RepoId, commit.Branch, existOk: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        var operations = commit.Files.OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => (CommitOperation)CommitOperation.AddFile(f.Key, f.Value))
            .ToList();
        await _hub.Commits.CreateCommitAsync(commit.RepoId, operations, commit.Message, new CommitOptions { Revision = commit.Branch }, cancellationToken).ConfigureAwait(false);
    }
}
