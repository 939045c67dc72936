using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Text;

namespace Adapters.Core.Serialization;

/// <summary>
/// A minimal, bounds-checked zip reader (stored and deflated entries, ZIP64) over a <see cref="ByteSource"/>. Entry
/// counts, in-memory sizes and compression ratios are bounded by <see cref="ZipLimits"/> before anything is inflated.
/// </summary>
internal sealed class ZipContainer
{
    private const uint EocdSignature = 0x06054b50;
    private const uint Zip64EocdSignature = 0x06064b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint CentralSignature = 0x02014b50;
    private const uint LocalSignature = 0x04034b50;
    private readonly ByteSource _source;
    private readonly ZipLimits _limits;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>An entry of the central directory.</summary>
    public sealed record Entry(string Name, int Method, long CompressedSize, long UncompressedSize, long LocalHeaderOffset, uint Crc32);

    /// <summary>Entries in central-directory order.</summary>
    public List<Entry> Entries { get; } = [];

    private ZipContainer(ByteSource source, ZipLimits limits)
    {
        _source = source;
        _limits = limits;
    }

    /// <summary>Whether the data starts with a local file header (<c>PK\x03\x04</c>).</summary>
    public static bool LooksLikeZip(ByteSource source)
    {
        if (source.Length < 4) return false;
        Span<byte> magic = stackalloc byte[4];
        source.Read(0, magic);
        return BinaryPrimitives.ReadUInt32LittleEndian(magic) == LocalSignature;
    }

    /// <summary>Reads the central directory.</summary>
    public static ZipContainer Open(ByteSource source, ZipLimits limits)
    {
        var zip = new ZipContainer(source, limits);
        zip.ReadDirectory();
        return zip;
    }

    /// <summary>Looks up an entry by its full name.</summary>
    public Entry? Find(string name) => _entries.GetValueOrDefault(name);

    /// <summary>
    /// Where the entry's bytes are: the file itself for stored entries, or an inflated copy in memory.
    /// </summary>
    public (ByteSource Source, long Offset) Locate(Entry entry)
    {
        var header = _source.ReadArray(entry.LocalHeaderOffset, 30, $"local header of {entry.Name}");
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != LocalSignature) throw _source.Error($"zip entry {Name(entry)}: bad local header signature");
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(26));
        var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(28));
        var dataOffset = entry.LocalHeaderOffset + 30 + nameLength + extraLength;
        if (!_source.Contains(dataOffset, entry.CompressedSize))
            throw _source.Error($"zip entry {Name(entry)}: {entry.CompressedSize} bytes at offset {dataOffset} lie outside the file");
        switch (entry.Method)
        {
            case 0:
                if (entry.CompressedSize != entry.UncompressedSize) throw _source.Error($"zip entry {Name(entry)}: stored entry sizes differ");
                return (_source, dataOffset);
            case 8:
                {
                    CheckInMemory(entry);
                    if (entry.UncompressedSize > (BigInteger)entry.CompressedSize * _limits.MaxCompressionRatio)
                        throw new TensorLimitException(_source.Path, $"zip entry {Name(entry)} declares {entry.UncompressedSize} bytes deflated from {entry.CompressedSize}",
                            "ZipLimits." + nameof(ZipLimits.MaxCompressionRatio), _limits.MaxCompressionRatio);
                    var compressed = _source.ReadArray(dataOffset, entry.CompressedSize, $"zip entry {Name(entry)}");
                    var output = GC.AllocateUninitializedArray<byte>((int)entry.UncompressedSize);
                    try
                    {
                        using var inflate = new DeflateStream(new MemoryStream(compressed), CompressionMode.Decompress);
                        var read = 0;
                        while (read < output.Length)
                        {
                            var n = inflate.Read(output, read, output.Length - read);
                            if (n == 0) break;
                            read += n;
                        }
                        if (read != output.Length) throw _source.Error($"zip entry {Name(entry)}: inflated to {read} bytes, expected {output.Length}");
                        // The declared size bounded the buffer; data that inflates further is a lie, not to be read on.
                        if (inflate.Read(new byte[1], 0, 1) != 0) throw _source.Error($"zip entry {Name(entry)}: inflates to more than the {output.Length} bytes it declares");
                    }
                    catch (InvalidDataException ex)
                    {
                        throw _source.Error($"zip entry {Name(entry)}: corrupt deflate data", ex);
                    }
                    return (ByteSource.FromArray(output, _source.Path), 0);
                }
            default:
                throw _source.Error($"zip entry {Name(entry)}: unsupported compression method {entry.Method}");
        }
    }

    /// <summary>Reads a whole entry into memory.</summary>
    public byte[] ReadAll(Entry entry)
    {
        CheckInMemory(entry);
        var (source, offset) = Locate(entry);
        return source.ReadArray(offset, entry.UncompressedSize, $"zip entry {Name(entry)}");
    }

    private void CheckInMemory(Entry entry)
    {
        var max = Math.Min(_limits.MaxEntryBytesInMemory, Array.MaxLength);
        if (entry.UncompressedSize > max)
            throw new TensorLimitException(_source.Path, $"zip entry {Name(entry)} declares {entry.UncompressedSize} bytes to hold in memory",
                "ZipLimits." + nameof(ZipLimits.MaxEntryBytesInMemory), max);
    }

    private static string Name(Entry entry) => Pickle.PyValues.Printable(entry.Name);

    private void ReadDirectory()
    {
        var length = _source.Length;
        if (length < 22) throw _source.Error("truncated zip archive (no end of central directory)");
        var tailLength = (int)Math.Min(length, 22 + 0xFFFF);
        var tail = _source.ReadArray(length - tailLength, tailLength, "zip end of central directory");
        var eocd = -1;
        for (var i = tail.Length - 22; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EocdSignature) { eocd = i; break; }
        }
        if (eocd < 0) throw _source.Error("truncated or corrupt zip archive: end of central directory not found");
        var eocdOffset = length - tailLength + eocd;
        long count = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(eocd + 10));
        long cdSize = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd + 12));
        long cdOffset = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd + 16));
        if (count == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF || HasZip64Locator(eocdOffset))
        {
            if (eocdOffset < 20) throw _source.Error("corrupt zip archive: ZIP64 locator missing");
            var locator = _source.ReadArray(eocdOffset - 20, 20, "ZIP64 locator");
            if (BinaryPrimitives.ReadUInt32LittleEndian(locator) != Zip64LocatorSignature) throw _source.Error("corrupt zip archive: ZIP64 locator missing");
            var z64Offset = BinaryPrimitives.ReadInt64LittleEndian(locator.AsSpan(8));
            var z64 = _source.ReadArray(z64Offset, 56, "ZIP64 end of central directory");
            if (BinaryPrimitives.ReadUInt32LittleEndian(z64) != Zip64EocdSignature) throw _source.Error("corrupt zip archive: bad ZIP64 end of central directory");
            count = BinaryPrimitives.ReadInt64LittleEndian(z64.AsSpan(32));
            cdSize = BinaryPrimitives.ReadInt64LittleEndian(z64.AsSpan(40));
            cdOffset = BinaryPrimitives.ReadInt64LittleEndian(z64.AsSpan(48));
        }
        if (count > _limits.MaxEntries)
            throw new TensorLimitException(_source.Path, $"zip archive declares {count} entries", "ZipLimits." + nameof(ZipLimits.MaxEntries), _limits.MaxEntries);
        if (cdSize < 0 || cdOffset < 0 || count < 0 || count > cdSize / 46 + 1)
            throw _source.Error($"corrupt zip archive: central directory of {count} entries in {cdSize} bytes");
        var cd = _source.ReadArray(cdOffset, cdSize, "zip central directory");
        var pos = 0;
        for (long i = 0; i < count; i++)
        {
            if (pos + 46 > cd.Length || BinaryPrimitives.ReadUInt32LittleEndian(cd.AsSpan(pos)) != CentralSignature)
                throw _source.Error($"corrupt zip archive: central directory entry {i} is damaged");
            var span = cd.AsSpan(pos);
            var method = BinaryPrimitives.ReadUInt16LittleEndian(span[10..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(span[16..]);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(span[20..]);
            long uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(span[24..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(span[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(span[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(span[32..]);
            long localOffset = BinaryPrimitives.ReadUInt32LittleEndian(span[42..]);
            if (pos + 46 + nameLength + extraLength + commentLength > cd.Length)
                throw _source.Error($"corrupt zip archive: central directory entry {i} runs past the directory");
            var name = Encoding.UTF8.GetString(span.Slice(46, nameLength));
            var extra = span.Slice(46 + nameLength, extraLength);
            while (extra.Length >= 4)
            {
                var id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
                var size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
                if (4 + size > extra.Length) break;
                if (id == 1)
                {
                    var field = extra.Slice(4, size);
                    if (uncompressed == 0xFFFFFFFF && field.Length >= 8) { uncompressed = BinaryPrimitives.ReadInt64LittleEndian(field); field = field[8..]; }
                    if (compressed == 0xFFFFFFFF && field.Length >= 8) { compressed = BinaryPrimitives.ReadInt64LittleEndian(field); field = field[8..]; }
                    if (localOffset == 0xFFFFFFFF && field.Length >= 8) { localOffset = BinaryPrimitives.ReadInt64LittleEndian(field); }
                }
                extra = extra[(4 + size)..];
            }
            if (compressed < 0 || uncompressed < 0 || localOffset < 0 || localOffset > length)
                throw _source.Error($"corrupt zip archive: entry {name} has impossible sizes or offset");
            var entry = new Entry(name, method, compressed, uncompressed, localOffset, crc);
            Entries.Add(entry);
            _entries.TryAdd(name, entry);
            pos += 46 + nameLength + extraLength + commentLength;
        }
    }

    private bool HasZip64Locator(long eocdOffset)
    {
        if (eocdOffset < 20) return false;
        Span<byte> sig = stackalloc byte[4];
        _source.Read(eocdOffset - 20, sig);
        return BinaryPrimitives.ReadUInt32LittleEndian(sig) == Zip64LocatorSignature;
    }
}
