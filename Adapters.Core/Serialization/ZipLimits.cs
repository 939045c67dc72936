namespace Adapters.Core.Serialization;

/// <summary>
/// Bounds on the zip container of a torch file, checked against each entry's declared sizes before anything is
/// inflated and against the actual bytes while inflating; exceeding one raises <see cref="TensorLimitException"/>.
/// Torch writes its entries stored (uncompressed), so the compression bounds only matter for re-zipped files.
/// </summary>
public sealed record ZipLimits
{
    /// <summary>The defaults.</summary>
    public static ZipLimits Default { get; } = new();

    /// <summary>Most entries in the central directory. Default 1,000,000.</summary>
    public long MaxEntries { get; init; } = 1_000_000;

    /// <summary>Largest entry read into memory (the pickle, or a deflated storage once inflated). Default 1 GiB.</summary>
    public long MaxEntryBytesInMemory { get; init; } = 1L << 30;

    /// <summary>Largest ratio of inflated to compressed size of a deflated entry. Default 100.</summary>
    public int MaxCompressionRatio { get; init; } = 100;
}
