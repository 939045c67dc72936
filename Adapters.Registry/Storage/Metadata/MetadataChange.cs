namespace Adapters.Registry.Storage.Metadata;

/// <summary>One atomic change of a repository's metadata (see <see cref="IRegistryMetadata.TryApply"/>).</summary>
internal sealed record MetadataChange
{
    /// <summary>A commit to store (commits are immutable; storing one twice is harmless).</summary>
    public CommitRecord? NewCommit { get; init; }

    public IReadOnlyList<RefUpdate> Refs { get; init; } = [];

    public IReadOnlyList<DiscussionWrite> Discussions { get; init; } = [];
}

/// <summary>
/// Moves ref <paramref name="Name"/> from <paramref name="Expected"/> (null: the ref must not exist yet) to
/// <paramref name="Target"/> (null: delete it). The compare-and-set that makes concurrent writers safe.
/// </summary>
internal sealed record RefUpdate(string Name, string? Expected, string? Target);

/// <summary>Stores <paramref name="Record"/>; with <paramref name="IsNew"/> only if no discussion has its number yet.</summary>
internal sealed record DiscussionWrite(DiscussionRecord Record, bool IsNew);
