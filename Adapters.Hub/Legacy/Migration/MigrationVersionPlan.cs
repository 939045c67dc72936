namespace Adapters.Hub.Legacy.Migration;

/// <summary>One legacy version of an entry and the branches it goes to.</summary>
public sealed class MigrationVersionPlan
{
    /// <summary>The legacy version label.</summary>
    public required string Version { get; init; }

    /// <summary>Whether this is the entry's default version (it also goes to <c>main</c>).</summary>
    public required bool IsDefault { get; init; }

    /// <summary>Target branches: <c>main</c> and the version for the default version, else the version alone.</summary>
    public required IReadOnlyList<string> Branches { get; init; }

    /// <summary>The legacy zip URL.</summary>
    public required string Url { get; init; }

    /// <summary>The zip's SHA-1, or null.</summary>
    public string? Sha1 { get; init; }

    /// <summary>The zip's SHA-256, or null.</summary>
    public string? Sha256 { get; init; }
}
