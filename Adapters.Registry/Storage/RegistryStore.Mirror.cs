using Adapters.Registry.Storage.Metadata;

namespace Adapters.Registry.Storage;

/// <summary>Storing what a mirror read from upstream (see <c>Mirror/UpstreamMirror</c>), through the same metadata as every other write.</summary>
internal sealed partial class RegistryStore
{
    /// <summary>Whether <paramref name="key"/> stores commit <paramref name="id"/>.</summary>
    public bool HasCommit(RepoKey key, string id) => _metadata.FindCommit(key, id) is not null;

    /// <summary>The commit ref <paramref name="name"/> points at, or null.</summary>
    public string? ReadRef(RepoKey key, string name) => _metadata.ReadRef(key, name);

    /// <summary>
    /// Keeps an upstream commit (its id is upstream's, so clients see the same <c>sha</c> and cache paths through the
    /// mirror as upstream) and, when <paramref name="refName"/> is given, points that ref at it. A repository not
    /// held yet is created with <paramref name="refName"/> as its first ref. Commits are immutable and storing one
    /// twice is harmless; the ref moves by compare-and-set, so of two processes that resolved the same name at once
    /// one simply finds the other's answer.
    /// </summary>
    public async Task AdoptUpstreamCommitAsync(RepoKey key, RepoMetadata metadata, CommitRecord commit, string? refName, CancellationToken cancellationToken)
    {
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_metadata.FindRepo(key) is null)
            {
                if (refName is null) throw new InvalidOperationException($"The first commit mirrored into {key} needs a ref.");
                if (_metadata.TryCreateRepo(key, metadata, commit, refName)) return;
            }
            for (var attempt = 0; attempt < MaxCommitAttempts; attempt++)
            {
                var current = refName is null ? null : _metadata.ReadRef(key, refName);
                var refs = refName is null || current == commit.Id ? [] : new[] { new RefUpdate(refName, current, commit.Id) };
                if (_metadata.TryApply(key, new MetadataChange { NewCommit = commit, Refs = refs })) return;
            }
        }
        finally
        {
            gate.Release();
        }
    }
}
