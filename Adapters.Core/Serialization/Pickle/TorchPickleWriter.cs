using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace Adapters.Core.Serialization.Pickle;

/// <summary>Options for <see cref="TorchPickleWriter"/>.</summary>
public sealed class TorchSaveOptions
{
    /// <summary>The zip root folder; null uses the file name without its extension, as current torch does.</summary>
    public string? ArchiveRoot { get; init; }

    /// <summary>The <c>.data/serialization_id</c> record (40 digits); null makes a random one.</summary>
    public string? SerializationId { get; init; }

    /// <summary>
    /// Omit the <c>.format_version</c> and <c>.storage_alignment</c> records that torch 2.5+ writes, giving the
    /// layout of torch 1.13-2.4 files (data.pkl, byteorder, data/*, version, .data/serialization_id).
    /// </summary>
    public bool OmitFormatVersion { get; init; }

    /// <summary>Pickle the top level as <c>collections.OrderedDict</c> (as <c>module.state_dict()</c> is) instead of a plain dict.</summary>
    public bool OrderedDict { get; init; }
}

/// <summary>
/// Writes a state dict (name → tensor) as <c>torch.save</c> does: a zip archive of stored entries with data
/// aligned to 64 bytes, a protocol-2 pickle with the same opcodes torch emits, and CRC-32s, loadable by
/// <c>torch.load(path, weights_only=True)</c>.
/// </summary>
public static class TorchPickleWriter
{
    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> (temporary file, then rename).</summary>
    public static void Save(string path, IEnumerable<TensorPayload> tensors, TorchSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new TorchSaveOptions();
        var root = options.ArchiveRoot ?? Path.GetFileNameWithoutExtension(path);
        var list = tensors.ToList();
        AtomicFile.Write(path, stream =>
        {
            var buffered = new BufferedStream(stream, 1 << 20);
            Write(buffered, list, options, root);
            buffered.Flush();
        });
    }

    /// <summary>Serializes to bytes in memory; the archive root defaults to <c>archive</c>.</summary>
    public static byte[] Serialize(IEnumerable<TensorPayload> tensors, TorchSaveOptions? options = null)
    {
        options ??= new TorchSaveOptions();
        var stream = new MemoryStream();
        Write(stream, tensors.ToList(), options, options.ArchiveRoot ?? "archive");
        return stream.ToArray();
    }

    private static void Write(Stream stream, List<TensorPayload> tensors, TorchSaveOptions options, string root)
    {
        if (root.Length == 0 || root.Contains('/')) throw new ArgumentException($"invalid archive root '{root}'", nameof(options));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (!names.Add(t.Spec.Name)) throw new ArgumentException($"duplicate tensor name '{t.Spec.Name}'", nameof(tensors));
            if (t.Spec.DType.BitSize() < 8) throw new ArgumentException($"tensor '{t.Spec.Name}': torch has no {t.Spec.DType} storage", nameof(tensors));
        }
        var zip = new ZipWriter(stream);
        var pickle = BuildPickle(tensors, options.OrderedDict);
        zip.Add(root + "/data.pkl", pickle);
        if (!options.OmitFormatVersion)
        {
            zip.Add(root + "/.format_version", "1"u8.ToArray());
            zip.Add(root + "/.storage_alignment", "64"u8.ToArray());
        }
        zip.Add(root + "/byteorder", "little"u8.ToArray());
        for (var i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            zip.Add(root + "/data/" + i.ToString(CultureInfo.InvariantCulture), t.Spec.ByteLength, t.WriteTo);
        }
        zip.Add(root + "/version", "3\n"u8.ToArray());
        zip.Add(root + "/.data/serialization_id", Encoding.ASCII.GetBytes(options.SerializationId ?? NewSerializationId()));
        zip.Finish();
    }

    /// <summary>A random id in torch's format: two zero-padded 20-digit numbers.</summary>
    public static string NewSerializationId()
    {
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        var a = BinaryPrimitives.ReadUInt64LittleEndian(random);
        var b = BinaryPrimitives.ReadUInt64LittleEndian(random[8..]);
        return a.ToString("D20", CultureInfo.InvariantCulture) + b.ToString("D20", CultureInfo.InvariantCulture);
    }

    /// <summary>The data.pkl bytes torch would pickle for a dict of fresh, contiguous tensors with storages 0..n-1.</summary>
    internal static byte[] BuildPickle(IReadOnlyList<TensorPayload> tensors, bool ordered)
    {
        var p = new PickleEmitter();
        p.Proto(2);
        if (ordered)
        {
            p.Global("collections", "OrderedDict");
            p.Op(')');
            p.Op('R');
            p.Put();
        }
        else
        {
            p.Op('}');
            p.Put();
        }
        // pickle's _batch_setitems: batches of 1000, MARK ... SETITEMS, or a lone SETITEM.
        for (var start = 0; ; start += 1000)
        {
            var n = Math.Min(1000, tensors.Count - start);
            if (n > 1) p.Op('(');
            for (var i = start; i < start + n; i++)
            {
                p.NewString(tensors[i].Spec.Name);
                EmitTensor(p, tensors[i].Spec, i);
            }
            if (n > 1) p.Op('u');
            else if (n == 1) p.Op('s');
            if (n < 1000) break;
        }
        p.Op('.');
        return p.ToArray();
    }

    private static void EmitTensor(PickleEmitter p, TensorSpec spec, int index)
    {
        var legacyStorage = spec.DType.LegacyStorageName();
        var v3 = legacyStorage is null;
        p.Global("torch._utils", v3 ? "_rebuild_tensor_v3" : "_rebuild_tensor_v2");
        p.Op('(');
        // Persistent id: ('storage', storage_type, key, location, numel)
        p.Op('(');
        p.SharedString("storage");
        if (v3) p.Global("torch.storage", "UntypedStorage");
        else p.Global("torch", legacyStorage!);
        p.NewString(index.ToString(CultureInfo.InvariantCulture));
        p.SharedString("cpu");
        p.Int(v3 ? spec.ByteLength : spec.ElementCount);
        p.Op('t');
        p.Put();
        p.Op('Q');
        p.Int(0);
        p.Tuple(spec.Shape);
        p.Tuple(TensorShapes.ContiguousStrides(spec.Shape));
        p.Op(0x89); // requires_grad False
        p.Global("collections", "OrderedDict");
        p.Op(')');
        p.Op('R');
        p.Put();
        if (v3) p.Global("torch", spec.DType.TorchName());
        p.Op('t');
        p.Put();
        p.Op('R');
        p.Put();
    }

    /// <summary>Emits pickle opcodes with Python's protocol-2 memo behaviour.</summary>
    private sealed class PickleEmitter
    {
        private readonly MemoryStream _out = new();
        private readonly Dictionary<string, int> _globals = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _shared = new(StringComparer.Ordinal);
        private int _memo;

        public byte[] ToArray() => _out.ToArray();

        public void Op(char c) => _out.WriteByte((byte)c);

        public void Op(byte b) => _out.WriteByte(b);

        public void Proto(int v)
        {
            Op(0x80);
            Op((byte)v);
        }

        public void Put()
        {
            var i = _memo++;
            if (i < 256)
            {
                Op('q');
                Op((byte)i);
            }
            else
            {
                Op('r');
                Span<byte> b = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(b, i);
                _out.Write(b);
            }
        }

        private void Get(int i)
        {
            if (i < 256)
            {
                Op('h');
                Op((byte)i);
            }
            else
            {
                Op('j');
                Span<byte> b = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(b, i);
                _out.Write(b);
            }
        }

        public void Global(string module, string name)
        {
            var key = module + "\n" + name;
            if (_globals.TryGetValue(key, out var at))
            {
                Get(at);
                return;
            }
            Op('c');
            _out.Write(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));
            _globals[key] = _memo;
            Put();
        }

        /// <summary>A string object pickled once and then referenced (like torch's 'storage' and 'cpu' constants).</summary>
        public void SharedString(string s)
        {
            if (_shared.TryGetValue(s, out var at))
            {
                Get(at);
                return;
            }
            _shared[s] = _memo;
            NewString(s);
        }

        public void NewString(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            Op('X');
            Span<byte> len = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(len, bytes.Length);
            _out.Write(len);
            _out.Write(bytes);
            Put();
        }

        public void Int(long v)
        {
            Span<byte> b = stackalloc byte[8];
            if (v is >= 0 and <= 0xFF)
            {
                Op('K');
                Op((byte)v);
            }
            else if (v is >= 0 and <= 0xFFFF)
            {
                Op('M');
                BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v);
                _out.Write(b[..2]);
            }
            else if (v is >= int.MinValue and <= int.MaxValue)
            {
                Op('J');
                BinaryPrimitives.WriteInt32LittleEndian(b, (int)v);
                _out.Write(b[..4]);
            }
            else
            {
                // LONG1: minimal two's-complement little-endian bytes, as pickle.encode_long.
                var bytes = new System.Numerics.BigInteger(v).ToByteArray();
                Op(0x8a);
                Op((byte)bytes.Length);
                _out.Write(bytes);
            }
        }

        public void Tuple(long[] items)
        {
            if (items.Length == 0)
            {
                Op(')');
                return;
            }
            if (items.Length > 3) Op('(');
            foreach (var i in items) Int(i);
            Op(items.Length switch { 1 => (byte)0x85, 2 => (byte)0x86, 3 => (byte)0x87, _ => (byte)'t' });
            Put();
        }
    }
}

/// <summary>
/// The zip layout PyTorch's miniz-based writer produces: stored entries, zero DOS times, data-descriptor flag,
/// an "FB" padding extra field that aligns each entry's data to 64 bytes, and a ZIP64 end record.
/// </summary>
internal sealed class ZipWriter(Stream stream)
{
    private const int Alignment = 64;
    private readonly List<(byte[] Name, long Size, uint Crc, long Offset, bool HasDescriptor)> _central = [];
    private long _position;

    public void Add(string name, byte[] data) => Add(name, data.Length, sink => sink(data));

    public void Add(string name, long size, Action<Action<ReadOnlySpan<byte>>> writeData)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var offset = _position;
        // getPadding() in caffe2/serialize/inline_container.cc
        var start = offset + 30 + nameBytes.Length + 4;
        var zip64Local = size >= 0xFFFFFFFF || offset >= 0xFFFFFFFF;
        if (zip64Local)
        {
            start += 4;
            if (size >= 0xFFFFFFFF) start += 16;
            if (offset >= 0xFFFFFFFF) start += 8;
        }
        var mod = start % Alignment;
        var padding = (int)(mod == 0 ? 0 : Alignment - mod);
        var extra = new MemoryStream();
        if (zip64Local) extra.Write(Zip64Extra(size >= 0xFFFFFFFF ? size : null, size >= 0xFFFFFFFF ? size : null, offset >= 0xFFFFFFFF ? offset : null));
        extra.Write("FB"u8);
        Span<byte> tmp = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(tmp, (ushort)padding);
        extra.Write(tmp[..2]);
        for (var i = 0; i < padding; i++) extra.WriteByte((byte)'Z');
        var extraBytes = extra.ToArray();

        var hasDescriptor = size > 0;
        var flags = (ushort)(0x0800 | (hasDescriptor ? 0x0008 : 0));
        var header = new byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(26), (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(28), (ushort)extraBytes.Length);
        Emit(header);
        Emit(nameBytes);
        Emit(extraBytes);

        var crc = new Crc32();
        long written = 0;
        writeData(chunk =>
        {
            crc.Append(chunk);
            written += chunk.Length;
            Emit(chunk);
        });
        if (written != size) throw new InvalidDataException($"zip entry {name}: wrote {written} bytes, expected {size}");
        var crcValue = crc.GetCurrentHashAsUInt32();
        if (hasDescriptor)
        {
            var big = zip64Local;
            var descriptor = new byte[big ? 24 : 16];
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor, 0x08074b50);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(4), crcValue);
            if (big)
            {
                BinaryPrimitives.WriteInt64LittleEndian(descriptor.AsSpan(8), size);
                BinaryPrimitives.WriteInt64LittleEndian(descriptor.AsSpan(16), size);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(8), (uint)size);
                BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(12), (uint)size);
            }
            Emit(descriptor);
        }
        _central.Add((nameBytes, size, crcValue, offset, hasDescriptor));
    }

    public void Finish()
    {
        var cdOffset = _position;
        foreach (var (name, size, crc, offset, hasDescriptor) in _central)
        {
            var needs64 = size >= 0xFFFFFFFF || offset >= 0xFFFFFFFF;
            var extra = needs64 ? Zip64Extra(size >= 0xFFFFFFFF ? size : null, size >= 0xFFFFFFFF ? size : null, offset >= 0xFFFFFFFF ? offset : null) : [];
            var h = new byte[46];
            BinaryPrimitives.WriteUInt32LittleEndian(h, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(8), (ushort)(0x0800 | (hasDescriptor ? 0x0008 : 0)));
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), crc);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(20), (uint)Math.Min(size, 0xFFFFFFFF));
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(24), (uint)Math.Min(size, 0xFFFFFFFF));
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(28), (ushort)name.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(30), (ushort)extra.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(42), (uint)Math.Min(offset, 0xFFFFFFFF));
            Emit(h);
            Emit(name);
            Emit(extra);
        }
        var cdSize = _position - cdOffset;
        var z64Offset = _position;
        var z64 = new byte[56];
        BinaryPrimitives.WriteUInt32LittleEndian(z64, 0x06064b50);
        BinaryPrimitives.WriteUInt64LittleEndian(z64.AsSpan(4), 44);
        BinaryPrimitives.WriteUInt16LittleEndian(z64.AsSpan(12), 0x031e);
        BinaryPrimitives.WriteUInt16LittleEndian(z64.AsSpan(14), 0x002d);
        BinaryPrimitives.WriteUInt64LittleEndian(z64.AsSpan(24), (ulong)_central.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(z64.AsSpan(32), (ulong)_central.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(z64.AsSpan(40), (ulong)cdSize);
        BinaryPrimitives.WriteUInt64LittleEndian(z64.AsSpan(48), (ulong)cdOffset);
        Emit(z64);
        var locator = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(locator, 0x07064b50);
        BinaryPrimitives.WriteUInt64LittleEndian(locator.AsSpan(8), (ulong)z64Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(locator.AsSpan(16), 1);
        Emit(locator);
        var eocd = new byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(eocd, 0x06054b50);
        var count = (ushort)Math.Min(_central.Count, 0xFFFF);
        BinaryPrimitives.WriteUInt16LittleEndian(eocd.AsSpan(8), count);
        BinaryPrimitives.WriteUInt16LittleEndian(eocd.AsSpan(10), count);
        BinaryPrimitives.WriteUInt32LittleEndian(eocd.AsSpan(12), (uint)Math.Min(cdSize, 0xFFFFFFFF));
        BinaryPrimitives.WriteUInt32LittleEndian(eocd.AsSpan(16), (uint)Math.Min(cdOffset, 0xFFFFFFFF));
        Emit(eocd);
        stream.Flush();
    }

    private static byte[] Zip64Extra(long? uncompressed, long? compressed, long? offset)
    {
        var fields = new List<long>();
        if (uncompressed is long u) fields.Add(u);
        if (compressed is long c) fields.Add(c);
        if (offset is long o) fields.Add(o);
        var bytes = new byte[4 + 8 * fields.Count];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), (ushort)(8 * fields.Count));
        for (var i = 0; i < fields.Count; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(4 + 8 * i), fields[i]);
        return bytes;
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        stream.Write(bytes);
        _position += bytes.Length;
    }
}
