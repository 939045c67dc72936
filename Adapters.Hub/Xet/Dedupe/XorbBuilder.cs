namespace Adapters.Hub.Xet.Dedupe;

/// <summary>A closed xorb: its hash, serialised bytes and chunks.</summary>
/// <param name="Hash">The xorb hash.</param>
/// <param name="Bytes">The serialised xorb to POST.</param>
/// <param name="Chunks">Its chunks (plain hash and length), in order.</param>
public sealed record BuiltXorb(XetHash Hash, byte[] Bytes, IReadOnlyList<XetChunkInfo> Chunks)
{
    /// <summary>Sum of the chunks' lengths.</summary>
    public long UnpackedBytes => Chunks.Sum(c => c.Length);
}

/// <summary>
/// Collects new chunks into a xorb until the next one would pass 64 MiB of chunk data or 8192 chunks, the limits a
/// CAS accepts.
/// </summary>
public sealed class XorbBuilder(XetCompressionScheme scheme = XetCompressionScheme.Lz4, XorbLimits? limits = null)
{
    private readonly XorbLimits _limits = limits ?? XorbLimits.Default;
    private readonly List<ReadOnlyMemory<byte>> _data = [];
    private readonly List<XetChunkInfo> _chunks = [];
    private long _bytes;

    /// <summary>Chunks in the open xorb.</summary>
    public int Count => _chunks.Count;

    /// <summary>Whether <paramref name="length"/> more bytes (one chunk) still fit.</summary>
    public bool Fits(int length) =>
        _chunks.Count < _limits.MaxChunks && _bytes + length + XorbChunkHeader.Size <= _limits.MaxSerializedBytes;

    /// <summary>Adds a chunk (the caller checked <see cref="Fits"/>); returns its index in the open xorb.</summary>
    public int Add(ReadOnlyMemory<byte> data, XetChunkInfo chunk)
    {
        if (!Fits(data.Length)) throw new InvalidOperationException("The open xorb is full; close it first.");
        _data.Add(data);
        _chunks.Add(chunk);
        _bytes += data.Length + XorbChunkHeader.Size;
        return _chunks.Count - 1;
    }

    /// <summary>Serialises and hashes the open xorb and starts a new one; null when it holds no chunk.</summary>
    public BuiltXorb? Close()
    {
        if (_chunks.Count == 0) return null;
        // Never larger than the raw chunks plus headers (which Fits bounds): a chunk compression does not shrink is stored raw.
        var bytes = XorbWriter.Serialize(_data, scheme);
        var built = new BuiltXorb(XetHashing.XorbHash(_chunks), bytes, [.. _chunks]);
        _data.Clear();
        _chunks.Clear();
        _bytes = 0;
        return built;
    }
}
