namespace Adapters.Hub.Xet;

/// <summary>A chunk as the Merkle trees see it: its hash and its uncompressed length in bytes.</summary>
/// <param name="Hash">The chunk hash (keyed BLAKE3 of the chunk's bytes).</param>
/// <param name="Length">The chunk's uncompressed length.</param>
public readonly record struct XetChunkInfo(XetHash Hash, long Length);
