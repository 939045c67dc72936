namespace Adapters.Hub.Legacy;

/// <summary>One config id under an index node: which org's entry implements it.</summary>
public sealed class LegacyIndexConfig
{
    /// <summary>The 16-hex config id.</summary>
    public required string ConfigId { get; init; }

    /// <summary>Org → entry path, in file order.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Versions { get; init; }

    /// <summary>The config-level default entry path (allowed by the spec, never generated), or null.</summary>
    public string? Default { get; init; }
}
