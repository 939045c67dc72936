namespace Adapters.Hub.Legacy.Migration;

/// <summary>What happened to one version of one entry.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<MigrationOutcomeKind>))]
public enum MigrationOutcomeKind
{
    /// <summary>Fetched, verified, normalised and pushed.</summary>
    Migrated,

    /// <summary>Nothing to do: done in an earlier run, or already present with the same files.</summary>
    Skipped,

    /// <summary>A step failed; <see cref="MigrationOutcome.Reason"/> says which and why.</summary>
    Failed,
}

/// <summary>The result for one version of one entry.</summary>
public sealed class MigrationOutcome
{
    /// <summary>The legacy <c>@org/stem</c> id.</summary>
    public required string LegacyId { get; init; }

    /// <summary>The legacy version.</summary>
    public required string Version { get; init; }

    /// <summary>The target repo.</summary>
    public required string TargetRepo { get; init; }

    /// <summary>The branches the version belongs on.</summary>
    public required IReadOnlyList<string> Branches { get; init; }

    /// <summary>Migrated, skipped or failed.</summary>
    public required MigrationOutcomeKind Kind { get; init; }

    /// <summary>Why it was skipped or failed, on one line with untrusted names escaped; null when migrated.</summary>
    public string? Reason { get; init; }

    /// <summary>The failure itself, so that callers can classify it (the CLI maps it to its exit code); null unless failed.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Exception? Error { get; init; }
}
