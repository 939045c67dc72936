using Adapters.Hub.Xet.Shards;

namespace Adapters.Hub.Xet.Dedupe;

/// <summary>
/// The chunks an uploader knows to be stored already: those of xorbs it built itself (plain hashes) and those the
/// CAS listed in global-dedupe answers (hashes keyed with each answer's HMAC key, so a chunk is found only by a
/// client that holds its content).
/// </summary>
public sealed class XetChunkIndex
{
    private readonly Dictionary<XetHash, XetChunkLocation> _plain = [];
    private readonly List<(XetHash Key, Dictionary<XetHash, XetChunkLocation> Chunks)> _keyed = [];

    /// <summary>Chunks listed, plain and keyed.</summary>
    public int Count => _plain.Count + _keyed.Sum(k => k.Chunks.Count);

    /// <summary>Records the chunks of a xorb by their plain hashes.</summary>
    public void AddXorb(XetHash xorbHash, IReadOnlyList<XetChunkInfo> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        for (var i = 0; i < chunks.Count; i++) _plain.TryAdd(chunks[i].Hash, new XetChunkLocation(xorbHash, i, (int)chunks[i].Length));
    }

    /// <summary>Records every xorb a shard lists (keyed with its HMAC key when it has one).</summary>
    public void AddShard(XetShard shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        var target = _plain;
        if (shard.HasKeyedChunkHashes)
        {
            var existing = _keyed.FindIndex(k => k.Key == shard.HmacKey);
            if (existing < 0)
            {
                _keyed.Add((shard.HmacKey, []));
                existing = _keyed.Count - 1;
            }
            target = _keyed[existing].Chunks;
        }
        foreach (var xorb in shard.Xorbs)
        {
            for (var i = 0; i < xorb.Chunks.Count; i++)
                target.TryAdd(xorb.Chunks[i].Hash, new XetChunkLocation(xorb.XorbHash, i, xorb.Chunks[i].UnpackedLength));
        }
    }

    /// <summary>Where the chunk with plain hash <paramref name="chunkHash"/> is stored, if known.</summary>
    public bool TryFind(XetHash chunkHash, out XetChunkLocation location)
    {
        if (_plain.TryGetValue(chunkHash, out location)) return true;
        foreach (var (key, chunks) in _keyed)
        {
            if (chunks.TryGetValue(XetHashing.KeyedChunkHash(chunkHash, key), out location)) return true;
        }
        return false;
    }
}
