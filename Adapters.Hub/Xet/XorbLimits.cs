namespace Adapters.Hub.Xet;

/// <summary>Bounds a xorb parser enforces before it allocates anything for untrusted input.</summary>
public sealed record XorbLimits
{
    /// <summary>The specification's limits: 64 MiB serialised, chunks up to the chunker's maximum.</summary>
    public static XorbLimits Default { get; } = new();

    /// <summary>Largest serialised xorb accepted (the CAS server rejects larger uploads).</summary>
    public long MaxSerializedBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Largest uncompressed chunk accepted.</summary>
    public int MaxChunkLength { get; init; } = XetChunker.MaximumChunkSize;

    /// <summary>Largest stored (compressed) chunk accepted; compression may expand incompressible input a little.</summary>
    public int MaxStoredChunkLength { get; init; } = 2 * XetChunker.MaximumChunkSize;

    /// <summary>Most chunks one xorb may hold.</summary>
    public int MaxChunks { get; init; } = 8 * 1024;
}
