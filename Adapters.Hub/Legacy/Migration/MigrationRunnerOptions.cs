namespace Adapters.Hub.Legacy.Migration;

/// <summary>Settings for <see cref="MigrationRunner"/>.</summary>
public sealed class MigrationRunnerOptions
{
    /// <summary>How many entries are migrated at once (default 2).</summary>
    public int MaxConcurrency { get; init; } = 2;

    /// <summary>The resumable state file; null keeps the state in memory (no resume).</summary>
    public string? StateFile { get; init; }

    /// <summary>Scratch space for zips and extracted folders; null means a folder under the system temp path.</summary>
    public string? WorkDirectory { get; init; }

    /// <summary>Bounds on the legacy zips.</summary>
    public ArchiveLimits ArchiveLimits { get; init; } = new();

    /// <summary>Adds <c>adapter.safetensors</c>/<c>model_head.safetensors</c> beside the pickles when set; without it only the pickles are pushed.</summary>
    public IAdapterWeightConverter? WeightConverter { get; init; }

    /// <summary>Attempts per network step (fetch, hash lookup, push) on transient errors (default 3).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The first retry delay; it doubles per attempt (default 2 s).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);
}
