namespace Adapters.Hub.Xet;

/// <summary>
/// Chunks and hashes data given piece by piece, in order: the incremental form of
/// <see cref="XetChunker.HashChunksAsync"/>, for callers that already hold the bytes (a resumed download's prefix,
/// a file being uploaded).
/// </summary>
public sealed class XetChunkHasher
{
    private readonly XetChunker _chunker = new();
    private readonly byte[] _pending = new byte[XetChunker.MaximumChunkSize];
    private int _pendingLength;

    /// <summary>The chunks completed so far, in order.</summary>
    public List<XetChunkInfo> Chunks { get; } = [];

    /// <summary>Feeds the next bytes of the data.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var cut = _chunker.NextBoundary(data);
            var taken = cut < 0 ? data.Length : cut;
            data[..taken].CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += taken;
            data = data[taken..];
            if (cut >= 0) Close();
        }
    }

    /// <summary>Ends the data: the open chunk, if any, becomes the last one. Returns <see cref="Chunks"/>.</summary>
    public List<XetChunkInfo> Complete()
    {
        if (_pendingLength > 0) Close();
        _chunker.Reset();
        return Chunks;
    }

    private void Close()
    {
        Chunks.Add(new XetChunkInfo(XetHashing.ChunkHash(_pending.AsSpan(0, _pendingLength)), _pendingLength));
        _pendingLength = 0;
    }
}
