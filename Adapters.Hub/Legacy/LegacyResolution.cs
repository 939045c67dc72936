namespace Adapters.Hub.Legacy;

/// <summary>Where a legacy id lives now: the Hugging Face repo and revision, plus the legacy entry it came from.</summary>
public sealed class LegacyResolution
{
    /// <summary>The id as given.</summary>
    public required string Identifier { get; init; }

    /// <summary>The Hugging Face repo, <c>AdapterHub/&lt;entry file stem&gt;</c>.</summary>
    public required string RepoId { get; init; }

    /// <summary>The git revision: the requested version (a branch), or <c>main</c> when none was requested.</summary>
    public required string Revision { get; init; }

    /// <summary>The index entry path relative to <c>dist/v2</c> (<c>adapters/&lt;org&gt;/&lt;file&gt;.json</c>).</summary>
    public required string EntryPath { get; init; }

    /// <summary>The entry's config id.</summary>
    public required string ConfigId { get; init; }

    /// <summary>The legacy version the revision holds (the requested one, else the entry's default).</summary>
    public required string Version { get; init; }

    /// <summary>The entry's default version.</summary>
    public required string DefaultVersion { get; init; }

    /// <summary>The legacy zip of <see cref="Version"/> with its checksums.</summary>
    public required LegacyAdapterFile File { get; init; }

    /// <summary>The entry's base model.</summary>
    public required string ModelName { get; init; }

    /// <summary>The entry's task.</summary>
    public required string Task { get; init; }

    /// <summary>The entry's subtask.</summary>
    public required string Subtask { get; init; }
}
