namespace Adapters.Core.Serialization.Pickle;

/// <summary>
/// Bounds on what a torch pickle may make the restricted unpickler do. Defaults fit every real checkpoint (a state
/// dict needs a handful of objects per tensor) while keeping a hostile file under a few hundred megabytes and a few
/// seconds; exceeding one raises <see cref="TensorLimitException"/> naming the limit.
/// </summary>
public sealed record PickleLimits
{
    /// <summary>The defaults.</summary>
    public static PickleLimits Default { get; } = new();

    /// <summary>
    /// Deepest nesting of containers: tuples as they are built, and containers as tensor names are collected.
    /// Default 256.
    /// </summary>
    public int MaxNestingDepth { get; init; } = 256;

    /// <summary>Values the pickle may create (memo and DUP references are not counted). Default 2,000,000.</summary>
    public long MaxObjects { get; init; } = 2_000_000;

    /// <summary>
    /// How many values collecting tensor names may visit per reference the pickle holds (plus 1,024): a tree visits
    /// each once, a container saved under two names twice, while a DAG that reuses one container at every level
    /// ("billion laughs") would visit exponentially many. Default 4.
    /// </summary>
    public int MaxReuseFactor { get; init; } = 4;

    /// <summary>Entries the memo may hold (PUT, BINPUT, MEMOIZE). Default 2,000,000.</summary>
    public int MaxMemoEntries { get; init; } = 2_000_000;

    /// <summary>Values (and MARKs) the VM stack may hold at once. Default 1,000,000.</summary>
    public int MaxStackDepth { get; init; } = 1_000_000;

    /// <summary>Items one list, tuple, dict or set may hold. Default 1,000,000.</summary>
    public int MaxCollectionItems { get; init; } = 1_000_000;

    /// <summary>
    /// Values a dict key or persistent id may hold, counting every element of nested tuples as often as it is
    /// reached (so a tuple that reuses itself at every level counts its full expansion). Default 10,000.
    /// </summary>
    public int MaxKeyValues { get; init; } = 10_000;

    /// <summary>Longest flattened tensor name (nested keys joined with dots), in characters. Default 65,536.</summary>
    public int MaxNameLength { get; init; } = 65_536;

    /// <summary>Largest integer literal (LONG, LONG1, LONG4) in bytes. Default 4,096.</summary>
    public int MaxIntegerBytes { get; init; } = 4_096;

    /// <summary>
    /// Largest number of bytes a view may expand to beyond the storage bytes it covers when its values are
    /// materialised (a stride-0 view of 2 bytes as 2^20 × 2^20 elements is legal in torch). Reading or converting
    /// such a view beyond this fails; describing it does not. Default 256 MiB.
    /// </summary>
    public long MaxExpandedViewBytes { get; init; } = 256L << 20;
}
