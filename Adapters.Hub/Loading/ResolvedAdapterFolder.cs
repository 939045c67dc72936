namespace Adapters.Hub.Loading;

/// <summary>A local folder holding an adapter, and how it was found.</summary>
/// <param name="Path">The folder with <c>adapter_config.json</c> and the weights.</param>
/// <param name="Source">Which step of the resolution found it.</param>
/// <param name="RepoId">The Hub repository, for Hub and legacy sources.</param>
/// <param name="Revision">The revision asked for (a legacy version becomes a branch), for Hub and legacy sources.</param>
public sealed record ResolvedAdapterFolder(string Path, AdapterSourceKind Source, string? RepoId = null, string? Revision = null);
