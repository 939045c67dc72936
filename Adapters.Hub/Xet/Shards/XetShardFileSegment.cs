namespace Adapters.Hub.Xet.Shards;

/// <summary>
/// One term of a file's reconstruction: chunks [<paramref name="ChunkIndexStart"/>, <paramref name="ChunkIndexEnd"/>)
/// of the xorb <paramref name="XorbHash"/>, which decompress to <paramref name="UnpackedBytes"/> bytes of the file.
/// </summary>
/// <param name="XorbHash">The xorb that holds the chunks.</param>
/// <param name="UnpackedBytes">Bytes of the file this term produces.</param>
/// <param name="ChunkIndexStart">First chunk index in the xorb (inclusive).</param>
/// <param name="ChunkIndexEnd">Chunk index after the last one (exclusive).</param>
/// <param name="XorbFlags">Reserved flags; writers put 0.</param>
public sealed record XetShardFileSegment(XetHash XorbHash, int UnpackedBytes, int ChunkIndexStart, int ChunkIndexEnd, uint XorbFlags = 0)
{
    /// <summary>How many chunks the term covers.</summary>
    public int ChunkCount => ChunkIndexEnd - ChunkIndexStart;
}
