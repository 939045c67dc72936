namespace Adapters.Hub.Xet.Dedupe;

/// <summary>Where a chunk is stored: chunk <paramref name="ChunkIndex"/> of xorb <paramref name="XorbHash"/>.</summary>
/// <param name="XorbHash">The xorb.</param>
/// <param name="ChunkIndex">The chunk's position in it.</param>
/// <param name="Length">The chunk's unpacked length.</param>
public readonly record struct XetChunkLocation(XetHash XorbHash, int ChunkIndex, int Length);
