using System.Collections.Concurrent;
using System.Security.Cryptography;
using Adapters.Hub.Legacy.Migration;

namespace Adapters.Hub.Tests.Legacy;

/// <summary>A push target that keeps every branch's files in memory and records each commit.</summary>
internal sealed class InMemoryMigrationPublisher : IMigrationPublisher
{
    private readonly ConcurrentDictionary<(string Repo, string Branch), Dictionary<string, byte[]>> _branches = new();

    public ConcurrentQueue<(string Repo, string Branch, string Message)> Commits { get; } = new();

    /// <summary>Called after each commit (e.g. to simulate a kill).</summary>
    public Action<int>? AfterCommit { get; set; }

    public IReadOnlyDictionary<string, byte[]>? Files(string repo, string branch) => _branches.GetValueOrDefault((repo, branch));

    public Task<IReadOnlyDictionary<string, string>?> GetFileHashesAsync(string repoId, string branch, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyDictionary<string, string>? hashes = _branches.TryGetValue((repoId, branch), out var files)
            ? files.ToDictionary(f => f.Key, f => Convert.ToHexStringLower(SHA256.HashData(f.Value)), StringComparer.Ordinal)
            : null;
        return Task.FromResult(hashes);
    }

    public Task PublishAsync(MigrationCommit commit, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var files = commit.Files.ToDictionary(f => f.Key, f => File.ReadAllBytes(f.Value), StringComparer.Ordinal);
        foreach (var (path, bytes) in files)
        {
            Assert.Equal(commit.Sha256[path], Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
        _branches[(commit.RepoId, commit.Branch)] = files;
        Commits.Enqueue((commit.RepoId, commit.Branch, commit.Message));
        AfterCommit?.Invoke(Commits.Count);
        return Task.CompletedTask;
    }
}
