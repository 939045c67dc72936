using System.Security.Cryptography;

namespace Adapters.Hub.Legacy.Migration;

/// <summary>
/// Publishes into a local folder laid out as <c>&lt;root&gt;/&lt;org&gt;/&lt;name&gt;/&lt;branch&gt;/&lt;files&gt;</c>:
/// a staging area to inspect or upload later. Each branch folder is replaced as a whole, via a temporary sibling.
/// </summary>
public sealed class FolderMigrationPublisher : IMigrationPublisher
{
    private readonly string _root;

    /// <summary>Publishes under <paramref name="root"/>.</summary>
    public FolderMigrationPublisher(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, string>?> GetFileHashesAsync(string repoId, string branch, CancellationToken cancellationToken = default)
    {
        var folder = BranchFolder(repoId, branch);
        if (!Directory.Exists(folder)) return null;
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var stream = File.OpenRead(file);
            await using (stream.ConfigureAwait(false))
            {
                hashes[Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/')] =
                    Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
            }
        }
        return hashes;
    }

    /// <inheritdoc />
    public Task PublishAsync(MigrationCommit commit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(commit);
        var folder = BranchFolder(commit.RepoId, commit.Branch);
        var staging = folder + ".incoming-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(staging);
        foreach (var (path, local) in commit.Files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = Path.GetFullPath(Path.Combine(staging, RegistryPaths.Normalize(path)));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(local, target);
        }
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.Move(staging, folder);
        return Task.CompletedTask;
    }

    private string BranchFolder(string repoId, string branch)
    {
        var repo = RegistryPaths.Normalize(repoId);
        if (repo.Count(c => c == '/') != 1) throw new ArgumentException($"'{repoId}' is not ORG/NAME.", nameof(repoId));
        return Path.Combine(_root, repo, RegistryPaths.Normalize(branch));
    }
}
