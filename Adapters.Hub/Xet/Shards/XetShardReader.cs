using System.Buffers.Binary;

namespace Adapters.Hub.Xet.Shards;

/// <summary>
/// Parses a serialised shard. Every offset, count and length is checked against the input's size and
/// <see cref="XetShardLimits"/> before anything is allocated; a violation throws <see cref="XetFormatException"/>
/// naming the source, the byte offset and what was expected.
/// </summary>
public static class XetShardReader
{
    /// <summary>The shard in <paramref name="shard"/>; <paramref name="source"/> names it (a URL, a path) in errors.</summary>
    public static XetShard Read(ReadOnlySpan<byte> shard, string source, XetShardLimits? limits = null)
    {
        limits ??= XetShardLimits.Default;
        if (shard.Length > limits.MaxSerializedBytes)
            throw new XetFormatException($"{source}: shard of {shard.Length} bytes exceeds the limit of {limits.MaxSerializedBytes}.");
        if (shard.Length < XetShardFormat.HeaderSize + XetShardFormat.FooterSize)
            throw new XetFormatException(
                $"{source}: {shard.Length} bytes are too few for a shard ({XetShardFormat.HeaderSize}-byte header and {XetShardFormat.FooterSize}-byte footer).");
        if (!shard[..XetShardFormat.HeaderTag.Length].SequenceEqual(XetShardFormat.HeaderTag))
            throw new XetFormatException($"{source}: does not start with the shard magic tag (\"HFRepoMetaData\\0\" and 17 fixed bytes).");
        var headerVersion = BinaryPrimitives.ReadUInt64LittleEndian(shard[32..]);
        if (headerVersion != XetShardFormat.HeaderVersion)
            throw new XetFormatException($"{source}: header version {headerVersion}; expected {XetShardFormat.HeaderVersion}.");
        var footerSize = BinaryPrimitives.ReadUInt64LittleEndian(shard[40..]);
        if (footerSize != XetShardFormat.FooterSize)
            throw new XetFormatException($"{source}: header declares a {footerSize}-byte footer; version {XetShardFormat.FooterVersion} footers are {XetShardFormat.FooterSize} bytes.");

        var footerStart = shard.Length - XetShardFormat.FooterSize;
        var footer = shard[footerStart..];
        Span<ulong> word = stackalloc ulong[9];
        for (var i = 0; i < word.Length; i++) word[i] = BinaryPrimitives.ReadUInt64LittleEndian(footer[(i * 8)..]);
        if (word[0] != XetShardFormat.FooterVersion)
            throw new XetFormatException($"{source}: footer (byte {footerStart}) version {word[0]}; expected {XetShardFormat.FooterVersion}.");
        var footerOffset = BinaryPrimitives.ReadUInt64LittleEndian(footer[192..]);
        if (footerOffset != (ulong)footerStart)
            throw new XetFormatException($"{source}: footer says it starts at byte {footerOffset} but the footer occupies the last {XetShardFormat.FooterSize} bytes, from {footerStart}.");
        var fileInfoOffset = word[1];
        var xorbInfoOffset = word[2];
        if (fileInfoOffset < XetShardFormat.HeaderSize || xorbInfoOffset < fileInfoOffset || xorbInfoOffset > (ulong)footerStart)
            throw new XetFormatException(
                $"{source}: section offsets file-info {fileInfoOffset}, xorb-info {xorbInfoOffset} must satisfy {XetShardFormat.HeaderSize} ≤ file-info ≤ xorb-info ≤ footer ({footerStart}).");

        var files = ReadFiles(shard, (int)fileInfoOffset, (int)xorbInfoOffset, source);
        var xorbs = ReadXorbs(shard, (int)xorbInfoOffset, footerStart, source, limits, out var xorbSectionEnd);
        CheckLookup(source, "file", word[3], word[4], XetShardFormat.HashIndexLookupSize, xorbSectionEnd, footerStart);
        CheckLookup(source, "xorb", word[5], word[6], XetShardFormat.HashIndexLookupSize, xorbSectionEnd, footerStart);
        CheckLookup(source, "chunk", word[7], word[8], XetShardFormat.ChunkLookupSize, xorbSectionEnd, footerStart);

        return new XetShard(files, xorbs)
        {
            HmacKey = XetHash.FromBytes(footer.Slice(72, XetHash.Size)),
            CreatedUnixSeconds = BinaryPrimitives.ReadUInt64LittleEndian(footer[104..]),
            ExpiresUnixSeconds = BinaryPrimitives.ReadUInt64LittleEndian(footer[112..]),
        };
    }

    private static List<XetShardFileInfo> ReadFiles(ReadOnlySpan<byte> shard, int start, int end, string source)
    {
        var files = new List<XetShardFileInfo>();
        var position = start;
        while (true)
        {
            var context = $"{source}: file-info record at byte {position}";
            if (end - position < XetShardFormat.EntrySize)
                throw new XetFormatException($"{context}: the file-info section (bytes {start}–{end}) ends without its bookend record.");
            var header = shard.Slice(position, XetShardFormat.EntrySize);
            position += XetShardFormat.EntrySize;
            if (XetShardFormat.IsBookend(header))
            {
                if (position != end)
                    throw new XetFormatException($"{context}: bookend ends at byte {position} but the xorb-info section starts at {end}.");
                return files;
            }
            var fileHash = XetHash.FromBytes(header[..XetHash.Size]);
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(header[32..]);
            var segmentCount = BinaryPrimitives.ReadUInt32LittleEndian(header[36..]);
            var withVerification = (flags & XetShardFormat.FileFlagWithVerification) != 0;
            var withMetadata = (flags & XetShardFormat.FileFlagWithMetadataExt) != 0;
            var following = (ulong)segmentCount * (withVerification ? 2UL : 1UL) + (withMetadata ? 1UL : 0UL);
            if (following * XetShardFormat.EntrySize > (ulong)(end - position))
                throw new XetFormatException(
                    $"{context}: file {fileHash} declares {segmentCount} segments (flags 0x{flags:x8}), {following} records, but only {(end - position) / XetShardFormat.EntrySize} fit before the xorb-info section.");

            var segments = new XetShardFileSegment[segmentCount];
            for (var i = 0; i < segments.Length; i++)
            {
                var record = shard.Slice(position, XetShardFormat.EntrySize);
                var unpacked = BinaryPrimitives.ReadUInt32LittleEndian(record[36..]);
                var chunkStart = BinaryPrimitives.ReadUInt32LittleEndian(record[40..]);
                var chunkEnd = BinaryPrimitives.ReadUInt32LittleEndian(record[44..]);
                if (chunkEnd <= chunkStart || chunkEnd > int.MaxValue || unpacked > int.MaxValue)
                    throw new XetFormatException(
                        $"{source}: file {fileHash}, segment {i} at byte {position}: chunks [{chunkStart}, {chunkEnd}) of {unpacked} bytes is not a non-empty range within the format's limits.");
                segments[i] = new XetShardFileSegment(XetHash.FromBytes(record[..XetHash.Size]), (int)unpacked, (int)chunkStart, (int)chunkEnd,
                    BinaryPrimitives.ReadUInt32LittleEndian(record[32..]));
                position += XetShardFormat.EntrySize;
            }
            XetHash[]? verification = null;
            if (withVerification)
            {
                verification = new XetHash[segmentCount];
                for (var i = 0; i < verification.Length; i++)
                {
                    verification[i] = XetHash.FromBytes(shard.Slice(position, XetHash.Size));
                    position += XetShardFormat.EntrySize;
                }
            }
            string? sha256 = null;
            if (withMetadata)
            {
                sha256 = XetHash.FromBytes(shard.Slice(position, XetHash.Size)).ToString();
                position += XetShardFormat.EntrySize;
            }
            files.Add(new XetShardFileInfo(fileHash, segments, verification, sha256));
        }
    }

    private static List<XetShardXorbInfo> ReadXorbs(ReadOnlySpan<byte> shard, int start, int end, string source,
        XetShardLimits limits, out int sectionEnd)
    {
        var xorbs = new List<XetShardXorbInfo>();
        var position = start;
        while (true)
        {
            var context = $"{source}: xorb-info record at byte {position}";
            if (end - position < XetShardFormat.EntrySize)
                throw new XetFormatException($"{context}: the xorb-info section ends at the footer (byte {end}) without its bookend record.");
            var header = shard.Slice(position, XetShardFormat.EntrySize);
            position += XetShardFormat.EntrySize;
            if (XetShardFormat.IsBookend(header))
            {
                sectionEnd = position;
                return xorbs;
            }
            var xorbHash = XetHash.FromBytes(header[..XetHash.Size]);
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(header[32..]);
            var chunkCount = BinaryPrimitives.ReadUInt32LittleEndian(header[36..]);
            var unpackedBytes = BinaryPrimitives.ReadUInt32LittleEndian(header[40..]);
            var serializedBytes = BinaryPrimitives.ReadUInt32LittleEndian(header[44..]);
            if (chunkCount > limits.MaxChunksPerXorb)
                throw new XetFormatException($"{context}: xorb {xorbHash} lists {chunkCount} chunks; the limit is {limits.MaxChunksPerXorb}.");
            if ((long)chunkCount * XetShardFormat.EntrySize > end - position)
                throw new XetFormatException($"{context}: xorb {xorbHash} lists {chunkCount} chunks but only {(end - position) / XetShardFormat.EntrySize} records remain before the footer.");
            if (serializedBytes > int.MaxValue)
                throw new XetFormatException($"{context}: xorb {xorbHash} declares {serializedBytes} serialised bytes, beyond the format's limits.");

            var chunks = new XetShardXorbChunk[chunkCount];
            long offset = 0;
            for (var i = 0; i < chunks.Length; i++)
            {
                var record = shard.Slice(position, XetShardFormat.EntrySize);
                var chunkOffset = BinaryPrimitives.ReadUInt32LittleEndian(record[32..]);
                var length = BinaryPrimitives.ReadUInt32LittleEndian(record[36..]);
                if (chunkOffset != offset)
                    throw new XetFormatException(
                        $"{source}: xorb {xorbHash}, chunk {i} at byte {position}: starts at unpacked offset {chunkOffset}; expected {offset}, the sum of the lengths before it.");
                if (length > (uint)limits.MaxChunkLength)
                    throw new XetFormatException(
                        $"{source}: xorb {xorbHash}, chunk {i} at byte {position}: length {length} exceeds the limit of {limits.MaxChunkLength}.");
                chunks[i] = new XetShardXorbChunk(XetHash.FromBytes(record[..XetHash.Size]), (int)chunkOffset, (int)length,
                    BinaryPrimitives.ReadUInt32LittleEndian(record[40..]));
                offset += length;
                position += XetShardFormat.EntrySize;
            }
            if (offset != unpackedBytes)
                throw new XetFormatException($"{context}: xorb {xorbHash} declares {unpackedBytes} unpacked bytes but its chunks add up to {offset}.");
            xorbs.Add(new XetShardXorbInfo(xorbHash, chunks, (int)serializedBytes, flags));
        }
    }

    private static void CheckLookup(string source, string table, ulong offset, ulong count, int rowSize, int sectionsEnd, int footerStart)
    {
        // Writers that leave a table out put zero rows (and offset zero or the footer's); only present tables are placed.
        if (count == 0) return;
        if (offset < (ulong)sectionsEnd || count > (ulong)(footerStart - sectionsEnd) / (ulong)rowSize
            || offset + count * (ulong)rowSize > (ulong)footerStart)
            throw new XetFormatException(
                $"{source}: {table} lookup table of {count} rows at byte {offset} does not lie between the end of the xorb-info section ({sectionsEnd}) and the footer ({footerStart}).");
    }
}
