using System.Buffers.Binary;

namespace Adapters.Hub.Xet.Shards;

/// <summary>
/// Serialises a <see cref="XetShard"/>: header, file-info section, CAS (xorb) info section, each closed by a
/// bookend record, then the file, xorb and chunk lookup tables (sorted on the hashes' first words) and the footer.
/// </summary>
public static class XetShardWriter
{
    /// <summary>The shard's bytes. Throws <see cref="ArgumentException"/> naming the file or xorb whose entry is inconsistent.</summary>
    public static byte[] Serialize(XetShard shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        long fileEntries = 0;
        foreach (var file in shard.Files)
        {
            Validate(file);
            fileEntries += 1 + file.Segments.Count * (file.VerificationHashes is null ? 1 : 2) + (file.Sha256 is null ? 0 : 1);
        }
        long xorbEntries = 0, chunkCount = 0;
        foreach (var xorb in shard.Xorbs)
        {
            Validate(xorb);
            xorbEntries += 1 + xorb.Chunks.Count;
            chunkCount += xorb.Chunks.Count;
        }

        var fileInfoOffset = (long)XetShardFormat.HeaderSize;
        var xorbInfoOffset = fileInfoOffset + (fileEntries + 1) * XetShardFormat.EntrySize;
        var fileLookupOffset = xorbInfoOffset + (xorbEntries + 1) * XetShardFormat.EntrySize;
        var xorbLookupOffset = fileLookupOffset + shard.Files.Count * (long)XetShardFormat.HashIndexLookupSize;
        var chunkLookupOffset = xorbLookupOffset + shard.Xorbs.Count * (long)XetShardFormat.HashIndexLookupSize;
        var footerOffset = chunkLookupOffset + chunkCount * XetShardFormat.ChunkLookupSize;
        var total = footerOffset + XetShardFormat.FooterSize;
        if (total > Array.MaxLength)
            throw new ArgumentException($"The shard would be {total} bytes; split it.", nameof(shard));

        var bytes = new byte[total];
        var span = bytes.AsSpan();
        XetShardFormat.HeaderTag.CopyTo(span);
        BinaryPrimitives.WriteUInt64LittleEndian(span[32..], XetShardFormat.HeaderVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(span[40..], XetShardFormat.FooterSize);

        // File-info section; the lookup keys each file's first record by its index from the section start.
        var fileLookup = new List<(ulong Key, uint Index, uint Unused)>(shard.Files.Count);
        var position = (int)fileInfoOffset;
        uint entryIndex = 0;
        long materializedBytes = 0;
        foreach (var file in shard.Files)
        {
            fileLookup.Add((file.FileHash.FirstWord, entryIndex, 0));
            var flags = (file.VerificationHashes is null ? 0 : XetShardFormat.FileFlagWithVerification)
                        | (file.Sha256 is null ? 0 : XetShardFormat.FileFlagWithMetadataExt);
            position = WriteRecord(span, position, file.FileHash, flags, (uint)file.Segments.Count, 0, 0);
            foreach (var segment in file.Segments)
            {
                position = WriteRecord(span, position, segment.XorbHash, segment.XorbFlags, (uint)segment.UnpackedBytes,
                    (uint)segment.ChunkIndexStart, (uint)segment.ChunkIndexEnd);
            }
            if (file.VerificationHashes is not null)
            {
                foreach (var hash in file.VerificationHashes) position = WriteRecord(span, position, hash, 0, 0, 0, 0);
            }
            if (file.Sha256 is not null) position = WriteRecord(span, position, XetHash.Parse(file.Sha256), 0, 0, 0, 0);
            entryIndex = (uint)((position - fileInfoOffset) / XetShardFormat.EntrySize);
            materializedBytes += file.Length;
        }
        position = WriteBookend(span, position);

        var xorbLookup = new List<(ulong Key, uint Index, uint Unused)>(shard.Xorbs.Count);
        var chunkLookup = new List<(ulong Key, uint Index, uint Position)>((int)chunkCount);
        entryIndex = 0;
        long storedBytesOnDisk = 0, storedBytes = 0;
        foreach (var xorb in shard.Xorbs)
        {
            xorbLookup.Add((xorb.XorbHash.FirstWord, entryIndex, 0));
            position = WriteRecord(span, position, xorb.XorbHash, xorb.Flags, (uint)xorb.Chunks.Count,
                (uint)xorb.UnpackedBytes, (uint)xorb.SerializedBytes);
            for (var i = 0; i < xorb.Chunks.Count; i++)
            {
                var chunk = xorb.Chunks[i];
                chunkLookup.Add((chunk.Hash.FirstWord, entryIndex, (uint)i));
                position = WriteRecord(span, position, chunk.Hash, (uint)chunk.UnpackedOffset, (uint)chunk.UnpackedLength, chunk.Flags, 0);
            }
            entryIndex += 1 + (uint)xorb.Chunks.Count;
            storedBytesOnDisk += xorb.SerializedBytes;
            storedBytes += xorb.UnpackedBytes;
        }
        position = WriteBookend(span, position);

        position = WriteLookup(span, position, fileLookup, withPosition: false);
        position = WriteLookup(span, position, xorbLookup, withPosition: false);
        position = WriteLookup(span, position, chunkLookup, withPosition: true);

        var footer = span[position..];
        ReadOnlySpan<ulong> words =
        [
            XetShardFormat.FooterVersion, (ulong)fileInfoOffset, (ulong)xorbInfoOffset,
            (ulong)fileLookupOffset, (ulong)shard.Files.Count, (ulong)xorbLookupOffset, (ulong)shard.Xorbs.Count,
            (ulong)chunkLookupOffset, (ulong)chunkCount,
        ];
        for (var i = 0; i < words.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(footer[(i * 8)..], words[i]);
        shard.HmacKey.CopyTo(footer[72..]);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[104..], shard.CreatedUnixSeconds);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[112..], shard.ExpiresUnixSeconds);
        // footer[120..168] is reserved and stays zero.
        BinaryPrimitives.WriteUInt64LittleEndian(footer[168..], (ulong)storedBytesOnDisk);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[176..], (ulong)materializedBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[184..], (ulong)storedBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[192..], (ulong)footerOffset);
        return bytes;
    }

    private static int WriteRecord(Span<byte> span, int position, XetHash hash, uint a, uint b, uint c, uint d)
    {
        var record = span.Slice(position, XetShardFormat.EntrySize);
        hash.CopyTo(record);
        BinaryPrimitives.WriteUInt32LittleEndian(record[32..], a);
        BinaryPrimitives.WriteUInt32LittleEndian(record[36..], b);
        BinaryPrimitives.WriteUInt32LittleEndian(record[40..], c);
        BinaryPrimitives.WriteUInt32LittleEndian(record[44..], d);
        return position + XetShardFormat.EntrySize;
    }

    private static int WriteBookend(Span<byte> span, int position)
    {
        span.Slice(position, XetHash.Size).Fill(0xFF);
        return position + XetShardFormat.EntrySize;
    }

    private static int WriteLookup(Span<byte> span, int position, List<(ulong Key, uint Index, uint Position)> rows, bool withPosition)
    {
        // Stable on equal keys so the table is deterministic.
        var ordered = rows.Select((row, i) => (row, i)).OrderBy(x => x.row.Key).ThenBy(x => x.i);
        foreach (var (row, _) in ordered)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[position..], row.Key);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(position + 8)..], row.Index);
            if (withPosition) BinaryPrimitives.WriteUInt32LittleEndian(span[(position + 12)..], row.Position);
            position += withPosition ? XetShardFormat.ChunkLookupSize : XetShardFormat.HashIndexLookupSize;
        }
        return position;
    }

    private static void Validate(XetShardFileInfo file)
    {
        for (var i = 0; i < file.Segments.Count; i++)
        {
            var s = file.Segments[i];
            if (s.ChunkIndexStart < 0 || s.ChunkIndexEnd <= s.ChunkIndexStart || s.UnpackedBytes < 0)
                throw new ArgumentException(
                    $"File {file.FileHash}, segment {i}: chunks [{s.ChunkIndexStart}, {s.ChunkIndexEnd}) of {s.UnpackedBytes} bytes is not a non-empty range.",
                    nameof(file));
        }
    }

    private static void Validate(XetShardXorbInfo xorb)
    {
        long offset = 0;
        for (var i = 0; i < xorb.Chunks.Count; i++)
        {
            var chunk = xorb.Chunks[i];
            if (chunk.UnpackedOffset != offset || chunk.UnpackedLength < 0)
                throw new ArgumentException(
                    $"Xorb {xorb.XorbHash}, chunk {i}: offset {chunk.UnpackedOffset} and length {chunk.UnpackedLength}; expected offset {offset} (the lengths before it) and a length ≥ 0.",
                    nameof(xorb));
            offset += chunk.UnpackedLength;
        }
        if (offset > uint.MaxValue || xorb.SerializedBytes < 0)
            throw new ArgumentException($"Xorb {xorb.XorbHash}: sizes must fit the format's 32-bit fields.", nameof(xorb));
    }
}
