namespace Adapters.Hub.Xet.Shards;

/// <summary>
/// A chunk as a shard lists it inside its xorb: its hash (keyed with the shard's HMAC key when the shard has one),
/// where it starts in the xorb's unpacked bytes, and its unpacked length.
/// </summary>
/// <param name="Hash">The chunk hash, or its keyed form in a shard with an HMAC key.</param>
/// <param name="UnpackedOffset">Sum of the unpacked lengths of the chunks before it in the xorb.</param>
/// <param name="UnpackedLength">The chunk's length.</param>
/// <param name="Flags">Chunk flags (bit 31 marks a global-dedupe candidate); writers usually put 0.</param>
public readonly record struct XetShardXorbChunk(XetHash Hash, int UnpackedOffset, int UnpackedLength, uint Flags = 0);
