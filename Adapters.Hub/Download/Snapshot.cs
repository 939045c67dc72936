namespace Adapters.Hub.Download;

/// <summary>A downloaded (or cached) snapshot of a repository.</summary>
/// <param name="Path">The folder <c>snapshots/&lt;commit&gt;</c> in the cache.</param>
/// <param name="CommitHash">The commit the revision resolved to.</param>
/// <param name="Files">The repository paths requested and present in the snapshot.</param>
public sealed record Snapshot(string Path, string CommitHash, IReadOnlyList<string> Files);
