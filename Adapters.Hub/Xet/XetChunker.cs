using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Adapters.Hub.Xet;

/// <summary>
/// Xet content-defined chunking: a Gear rolling hash over the input, a boundary after any byte where the hash's top
/// 16 bits are zero once the chunk holds at least <see cref="MinimumChunkSize"/> bytes, and a forced boundary at
/// <see cref="MaximumChunkSize"/>. Feed data in any slicing through <see cref="NextBoundary"/>; the boundaries do not
/// depend on how the input was sliced.
/// </summary>
public sealed class XetChunker
{
    /// <summary>The average chunk size the mask aims at.</summary>
    public const int TargetChunkSize = 64 * 1024;

    /// <summary>No boundary is taken before a chunk holds this many bytes (except at the end of the input).</summary>
    public const int MinimumChunkSize = TargetChunkSize / 8;

    /// <summary>A chunk is cut here if the hash found no boundary.</summary>
    public const int MaximumChunkSize = TargetChunkSize * 2;

    /// <summary>The spec's mask: 16 one-bits at the top of the 64-bit hash.</summary>
    public const ulong BoundaryMask = 0xFFFF_0000_0000_0000UL;

    // Each step shifts the hash left once, so a byte stops influencing it after 64 further bytes. Bytes earlier than
    // this window before the minimum size cannot affect any allowed boundary and are skipped without hashing.
    private const int HashWindow = 64;

    private ulong _hash;
    private int _length;

    /// <summary>Bytes already given to the chunk that is still open.</summary>
    public int PendingLength => _length;

    /// <summary>
    /// Consumes <paramref name="data"/> as the continuation of the open chunk. Returns how many leading bytes of
    /// <paramref name="data"/> complete that chunk (the chunker is then ready for the next one, and the caller
    /// passes the rest again), or -1 when all of <paramref name="data"/> joined the open chunk without a boundary.
    /// </summary>
    public int NextBoundary(ReadOnlySpan<byte> data)
    {
        // The hot loop of uploads: references instead of indexers, so neither the input nor the table is bounds-checked
        // per byte (the table has 256 entries and is indexed by a byte; positions stay below data.Length).
        ref var table = ref MemoryMarshal.GetReference(GearHashTable.Values);
        ref var input = ref MemoryMarshal.GetReference(data);
        var index = 0;
        if (_length + HashWindow < MinimumChunkSize)
            index = Math.Min(MinimumChunkSize - _length - HashWindow - 1, data.Length);
        var limit = Math.Min(data.Length, MaximumChunkSize - _length);
        var hash = _hash;
        // Below the minimum size no position may end a chunk: only roll the hash.
        var firstAllowed = Math.Min(limit, Math.Max(index, MinimumChunkSize - 1 - _length));
        for (; index < firstAllowed; index++)
            hash = (hash << 1) + Unsafe.Add(ref table, Unsafe.Add(ref input, index));
        for (; index < limit; index++)
        {
            hash = (hash << 1) + Unsafe.Add(ref table, Unsafe.Add(ref input, index));
            if ((hash & BoundaryMask) == 0)
            {
                Reset();
                return index + 1;
            }
        }
        if (_length + limit >= MaximumChunkSize)
        {
            Reset();
            return limit;
        }
        _hash = hash;
        _length += data.Length;
        return -1;
    }

    /// <summary>Closes the open chunk (the end of the input) and starts over.</summary>
    public void Reset()
    {
        _hash = 0;
        _length = 0;
    }

    /// <summary>The lengths of the chunks of a whole buffer, in order (none for an empty buffer).</summary>
    public static List<int> ChunkLengths(ReadOnlySpan<byte> data)
    {
        var lengths = new List<int>(data.Length / TargetChunkSize + 1);
        var chunker = new XetChunker();
        while (!data.IsEmpty)
        {
            var cut = chunker.NextBoundary(data);
            if (cut < 0)
            {
                lengths.Add(data.Length);
                break;
            }
            lengths.Add(cut);
            data = data[cut..];
        }
        return lengths;
    }

    /// <summary>
    /// Chunks and hashes a whole stream, reading it once, and returns each chunk's hash and length in order; the
    /// file hash is <see cref="XetHashing.FileHash(IReadOnlyList{XetChunkInfo})"/> of the result.
    /// </summary>
    public static async Task<List<XetChunkInfo>> HashChunksAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var chunks = new List<XetChunkInfo>();
        var chunker = new XetChunker();
        // The open chunk is kept whole so its hash can be taken in one call once its end is known.
        var pending = new byte[MaximumChunkSize];
        var pendingLength = 0;
        var buffer = new byte[1 << 20];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            var data = buffer.AsMemory(0, read);
            while (!data.IsEmpty)
            {
                var cut = chunker.NextBoundary(data.Span);
                var taken = cut < 0 ? data.Length : cut;
                data.Span[..taken].CopyTo(pending.AsSpan(pendingLength));
                pendingLength += taken;
                data = data[taken..];
                if (cut >= 0)
                {
                    chunks.Add(new XetChunkInfo(XetHashing.ChunkHash(pending.AsSpan(0, pendingLength)), pendingLength));
                    pendingLength = 0;
                }
            }
        }
        if (pendingLength > 0)
            chunks.Add(new XetChunkInfo(XetHashing.ChunkHash(pending.AsSpan(0, pendingLength)), pendingLength));
        return chunks;
    }
}
