namespace Adapters.Hub.Legacy.Migration;

/// <summary>Bounds on what a legacy zip may expand to; the counts are enforced on the bytes actually inflated, not on the zip's headers.</summary>
public sealed class ArchiveLimits
{
    /// <summary>Most entries a zip may hold (default 64; legacy zips hold 2 to 4 files).</summary>
    public int MaxEntries { get; init; } = 64;

    /// <summary>Most bytes one entry may inflate to (default 2 GiB).</summary>
    public long MaxEntryBytes { get; init; } = 2L << 30;

    /// <summary>Most bytes all entries together may inflate to (default 4 GiB).</summary>
    public long MaxTotalBytes { get; init; } = 4L << 30;
}
