namespace Adapters.Hub.Legacy;

/// <summary>One downloadable version of a legacy adapter: a zip at <see cref="Url"/> with its checksums.</summary>
public sealed class LegacyAdapterFile
{
    /// <summary>The version label (<c>1</c>, <c>madx</c>, <c>nd</c>, …); always a string.</summary>
    public required string Version { get; init; }

    /// <summary>The legacy zip URL.</summary>
    public required string Url { get; init; }

    /// <summary>Lowercase hex SHA-1 of the zip, or null.</summary>
    public string? Sha1 { get; init; }

    /// <summary>Lowercase hex SHA-256 of the zip, or null.</summary>
    public string? Sha256 { get; init; }

    /// <summary>The version's own description (YAML cards only).</summary>
    public string? Description { get; init; }
}
