using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Serialization.Pickle;

/// <summary>
/// A <c>torch.save</c> file (zip or legacy format) read without executing anything: the pickle is decoded by a
/// restricted VM into plain containers and <see cref="TorchTensorRef"/> descriptors, and each tensor's bytes are
/// read lazily from a memory map of the file.
/// </summary>
public sealed class TorchPickleFile : TensorFile
{
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("1950a86a20f9469cfc6c", NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    private readonly ByteSource _source;
    private readonly PickleLimits _limits;
    private readonly ZipLimits _zipLimits;
    private readonly List<TensorSpec> _specs = [];
    private readonly Dictionary<string, TorchTensorRef> _refs = new(StringComparer.Ordinal);
    private readonly List<ByteSource> _extraSources = [];
    private long _visited;
    private long _references;

    private TorchPickleFile(ByteSource source, PickleLimits limits, ZipLimits zipLimits)
    {
        _source = source;
        _limits = limits;
        _zipLimits = zipLimits;
    }

    /// <summary>Opens a torch pickle and decodes its object tree (tensor data stays on disk) within the default limits.</summary>
    /// <exception cref="TensorFormatException">Malformed, truncated or unsupported.</exception>
    /// <exception cref="UnsafePickleException">The pickle names a global outside the allow-list.</exception>
    /// <exception cref="TensorLimitException">The file exceeds a default <see cref="PickleLimits"/> or <see cref="ZipLimits"/>.</exception>
    public static TorchPickleFile Open(string path) => Open(path, null, null);

    /// <summary>Opens a torch pickle within <paramref name="limits"/> and <paramref name="zipLimits"/> (null: the defaults).</summary>
    /// <exception cref="TensorFormatException">Malformed, truncated or unsupported.</exception>
    /// <exception cref="UnsafePickleException">The pickle names a global outside the allow-list.</exception>
    /// <exception cref="TensorLimitException">The file exceeds a limit.</exception>
    public static TorchPickleFile Open(string path, PickleLimits? limits, ZipLimits? zipLimits)
    {
        var source = ByteSource.OpenFile(path);
        try
        {
            return Parse(source, limits ?? PickleLimits.Default, zipLimits ?? ZipLimits.Default);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Decodes a torch pickle held in memory.</summary>
    public static TorchPickleFile FromBytes(byte[] data, string? name = null) => FromBytes(data, name, null, null);

    /// <summary>Decodes a torch pickle held in memory within <paramref name="limits"/> and <paramref name="zipLimits"/> (null: the defaults).</summary>
    public static TorchPickleFile FromBytes(byte[] data, string? name, PickleLimits? limits, ZipLimits? zipLimits) =>
        Parse(ByteSource.FromArray(data, name), limits ?? PickleLimits.Default, zipLimits ?? ZipLimits.Default);

    /// <summary>The limits this file was decoded under (they also bound <see cref="ReadValues"/> of expanding views).</summary>
    public PickleLimits Limits => _limits;

    /// <inheritdoc/>
    public override string? FilePath => _source.Path;

    /// <inheritdoc/>
    public override TensorFileFormat Format => IsZip ? TensorFileFormat.TorchZip : TensorFileFormat.TorchLegacy;

    /// <summary>Whether this is the zip format (otherwise legacy).</summary>
    public bool IsZip { get; private set; }

    /// <summary>The pickle protocol of the object pickle (the PROTO opcode; 0 or 1 when absent).</summary>
    public int Protocol { get; private set; }

    /// <summary>The zip archive's root folder (<c>archive</c>, the file stem, ...), null for legacy files.</summary>
    public string? ArchiveRoot { get; private set; }

    /// <summary>The <c>version</c> record of a zip file, if present.</summary>
    public string? Version { get; private set; }

    /// <summary>The byte order of the storages (<c>little</c> unless the file says otherwise).</summary>
    public string ByteOrder { get; private set; } = "little";

    /// <summary>
    /// The decoded object: <see cref="PyDict"/>, <see cref="PyList"/>, <see cref="PyTuple"/>, strings, numbers, and
    /// <see cref="TorchTensorRef"/> for tensors.
    /// </summary>
    public object? Root { get; private set; }

    /// <summary>Every tensor's descriptor by flattened name (nested keys joined with dots).</summary>
    public IReadOnlyDictionary<string, TorchTensorRef> TensorRefs => _refs;

    /// <inheritdoc/>
    public override IReadOnlyList<TensorSpec> Tensors => _specs;

    /// <summary>
    /// How many bytes more the tensor's values take than the storage bytes its view covers: 0 for ordinary tensors,
    /// positive for views that reuse elements (stride 0, overlapping strides), computed without reading anything.
    /// </summary>
    public long ExpandedViewBytes(string name)
    {
        var t = Ref(name);
        var spec = GetSpec(name);
        if (spec.ElementCount == 0) return 0;
        return Math.Max(0, spec.ByteLength - CoveredBytes(t));
    }

    /// <summary>Whether <see cref="ReadValues"/> may materialise the tensor (see <see cref="PickleLimits.MaxExpandedViewBytes"/>).</summary>
    public bool IsMaterializable(string name) => ExpandedViewBytes(name) <= _limits.MaxExpandedViewBytes;

    /// <summary>Throws when the tensor is a view that would expand beyond <see cref="PickleLimits.MaxExpandedViewBytes"/>.</summary>
    /// <exception cref="TensorLimitException">It would.</exception>
    public void EnsureMaterializable(string name)
    {
        if (IsMaterializable(name)) return;
        var t = Ref(name);
        var spec = GetSpec(name);
        throw new TensorLimitException(FilePath,
            $"tensor '{PyValues.Printable(name)}' is a view of {CoveredBytes(t)} storage bytes with size {TensorShapes.Format(t.Shape)} and stride {TensorShapes.Format(t.Stride)}; its values would take {spec.ByteLength} bytes",
            "PickleLimits." + nameof(PickleLimits.MaxExpandedViewBytes), _limits.MaxExpandedViewBytes);
    }

    private static long CoveredBytes(TorchTensorRef t)
    {
        // MakeTensor checked that the last element lies inside the storage, so this cannot overflow.
        long last = 0;
        for (var i = 0; i < t.Shape.Length; i++) last += (t.Shape[i] - 1) * t.Stride[i];
        return (last + 1) * t.DType.ByteSize();
    }

    /// <inheritdoc/>
    /// <exception cref="TensorLimitException">The tensor is a view that expands beyond <see cref="PickleLimits.MaxExpandedViewBytes"/>.</exception>
    public override void ReadValues(string name, Action<ReadOnlySpan<byte>> sink)
    {
        var t = Ref(name);
        var spec = GetSpec(name);
        EnsureMaterializable(name);
        var (source, baseOffset) = Data(t.Storage);
        var elementSize = t.DType.ByteSize();
        var swap = ByteOrder == "big" && elementSize > 1;
        if (spec.ElementCount == 0)
        {
            sink([]);
            return;
        }
        if (t.IsContiguous && !swap)
        {
            var start = baseOffset + t.StorageOffset * elementSize;
            var buffer = new byte[(int)Math.Min(16 << 20, spec.ByteLength)];
            for (long done = 0; done < spec.ByteLength;)
            {
                var n = (int)Math.Min(buffer.Length, spec.ByteLength - done);
                source.Read(start + done, buffer.AsSpan(0, n));
                sink(buffer.AsSpan(0, n));
                done += n;
            }
            return;
        }
        // Strided (or big-endian): read the storage span the view touches, then gather its elements in order.
        long last = t.StorageOffset;
        for (var i = 0; i < t.Shape.Length; i++) last += (t.Shape[i] - 1) * t.Stride[i];
        var spanBytes = (last - t.StorageOffset + 1) * elementSize;
        var region = source.ReadArray(baseOffset + t.StorageOffset * elementSize, spanBytes, $"storage of tensor '{name}'");
        var output = new byte[(int)Math.Min(spec.ByteLength, 16 << 20) / elementSize * elementSize + 0];
        if (output.Length == 0) output = new byte[elementSize];
        var index = new long[t.Shape.Length];
        var filled = 0;
        for (long e = 0; e < spec.ElementCount; e++)
        {
            long at = 0;
            for (var d = 0; d < index.Length; d++) at += index[d] * t.Stride[d];
            var src = region.AsSpan((int)(at * elementSize), elementSize);
            var dst = output.AsSpan(filled, elementSize);
            src.CopyTo(dst);
            if (swap) SwapElement(dst, t.DType);
            filled += elementSize;
            if (filled == output.Length)
            {
                sink(output);
                filled = 0;
            }
            for (var d = index.Length - 1; d >= 0; d--)
            {
                if (++index[d] < t.Shape[d]) break;
                index[d] = 0;
            }
        }
        if (filled > 0) sink(output.AsSpan(0, filled));
    }

    private static void SwapElement(Span<byte> element, TensorDType dtype)
    {
        if (dtype is TensorDType.C64 or TensorDType.C128)
        {
            var half = element.Length / 2;
            element[..half].Reverse();
            element[half..].Reverse();
        }
        else
        {
            element.Reverse();
        }
    }

    /// <inheritdoc/>
    public override Tensor LoadTensor(string name) => LoadTensor(name, null);

    /// <inheritdoc/>
    public override StateDict LoadAll()
    {
        var cache = new Dictionary<(TorchStorage, TensorDType), Tensor>();
        var result = new StateDict();
        try
        {
            // Load every storage once, in parallel; tensors are then views of them.
            if (ByteOrder == "little")
            {
                var keys = _refs.Values.Where(t => t.DType.BitSize() >= 8).Select(t => (t.Storage, t.DType)).Distinct().ToList();
                var requests = keys.Select(k =>
                {
                    var (source, offset) = Data(k.Storage);
                    var elementSize = k.DType.ByteSize();
                    var numel = k.Storage.ByteLength / elementSize;
                    return new TorchBridge.SourceRequest(k.DType, [numel], numel * elementSize, source, offset);
                }).ToList();
                var loaded = TorchBridge.FromSources(requests);
                for (var i = 0; i < keys.Count; i++) cache[keys[i]] = loaded[i];
            }
            foreach (var spec in _specs) result.Add(spec.Name, LoadTensor(spec.Name, cache), spec.DType);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            foreach (var storage in cache.Values) storage.Dispose();
        }
    }

    private Tensor LoadTensor(string name, Dictionary<(TorchStorage, TensorDType), Tensor>? cache)
    {
        var t = Ref(name);
        var spec = GetSpec(name);
        if (ByteOrder == "big" || t.DType.BitSize() < 8)
        {
            return ReadRaw(name).ToTensor();
        }
        // Load the whole storage once and view it, as torch does, so views that share a storage share memory.
        var key = (t.Storage, t.DType);
        Tensor? storageTensor = null;
        var owned = false;
        if (cache is null || !cache.TryGetValue(key, out storageTensor))
        {
            var (source, offset) = Data(t.Storage);
            var elementSize = t.DType.ByteSize();
            var numel = t.Storage.ByteLength / elementSize;
            storageTensor = TorchBridge.FromSource(source, offset, t.DType, [numel], numel * elementSize);
            if (cache is not null) cache[key] = storageTensor;
            else owned = true;
        }
        try
        {
            if (t.IsContiguous && t.StorageOffset == 0 && spec.ElementCount == storageTensor.numel())
                return storageTensor.reshape(t.Shape);
            return storageTensor.as_strided(t.Shape, t.Stride, t.StorageOffset);
        }
        finally
        {
            if (owned) storageTensor.Dispose();
        }
    }

    private TorchTensorRef Ref(string name) =>
        _refs.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{FilePath ?? "tensor data"}: no tensor named '{name}'");

    private (ByteSource Source, long Offset) Data(TorchStorage storage)
    {
        if (storage.Root is { } root)
        {
            var (s, o) = Data(root);
            return (s, o + storage.ViewOffsetBytes);
        }
        if (storage.Source is null) throw _source.Error($"storage '{storage.Key}' has no data in the file");
        return (storage.Source, storage.SourceOffset);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        foreach (var s in _extraSources) s.Dispose();
        _source.Dispose();
    }

    private static TorchPickleFile Parse(ByteSource source, PickleLimits limits, ZipLimits zipLimits)
    {
        var file = new TorchPickleFile(source, limits, zipLimits);
        if (ZipContainer.LooksLikeZip(source)) file.ParseZip();
        else file.ParseLegacy();
        file.CollectTensors();
        return file;
    }

    private void ParseZip()
    {
        IsZip = true;
        var zip = ZipContainer.Open(_source, _zipLimits);
        ZipContainer.Entry? pickle = null;
        foreach (var entry in zip.Entries)
        {
            if (entry.Name == "data.pkl" || (entry.Name.EndsWith("/data.pkl", StringComparison.Ordinal) && entry.Name.IndexOf('/') == entry.Name.Length - "/data.pkl".Length))
            {
                pickle = entry;
                break;
            }
        }
        if (pickle is null) throw _source.Error("not a torch zip file: no */data.pkl entry");
        var prefix = pickle.Name[..^"data.pkl".Length];
        ArchiveRoot = prefix.TrimEnd('/');
        if (zip.Find(prefix + "byteorder") is { } byteOrderEntry)
        {
            if (byteOrderEntry.UncompressedSize > 16) throw _source.Error($"byteorder entry of {byteOrderEntry.UncompressedSize} bytes (expected 'little' or 'big')");
            var order = System.Text.Encoding.ASCII.GetString(zip.ReadAll(byteOrderEntry)).Trim();
            if (order is not ("little" or "big")) throw _source.Error($"unknown byteorder '{order}'");
            ByteOrder = order;
        }
        var versionEntry = zip.Find(prefix + "version") ?? zip.Find(prefix + ".data/version");
        if (versionEntry is not null && versionEntry.UncompressedSize < 64) Version = System.Text.Encoding.ASCII.GetString(zip.ReadAll(versionEntry)).Trim();
        var bytes = zip.ReadAll(pickle);
        var host = new TorchPickleHost(_source.Path, (key, dtype, numel, location) =>
        {
            var entry = zip.Find(prefix + "data/" + key) ?? throw _source.Error($"storage '{key}' has no entry {prefix}data/{key}");
            var needed = (BigInteger)numel * dtype.ByteSize();
            if (needed > entry.UncompressedSize)
                throw _source.Error($"storage '{key}' needs {needed} bytes but its entry holds {entry.UncompressedSize}");
            var (src, offset) = zip.Locate(entry);
            if (!ReferenceEquals(src, _source)) _extraSources.Add(src);
            return new TorchStorage(key, dtype, (long)needed, location) { Source = src, SourceOffset = offset };
        }, _limits);
        var unpickler = new Unpickler(bytes, 0, bytes.Length, _source.Path, host, _limits);
        Root = unpickler.Load();
        Protocol = unpickler.Protocol;
        _references = unpickler.References;
    }

    private void ParseLegacy()
    {
        var length = _source.Length;
        if (length == 0) throw _source.Error("empty file: not a safetensors or torch file");
        var window = (int)Math.Min(length, 64L << 20);
        while (true)
        {
            var bytes = _source.ReadArray(0, window, "legacy pickle");
            try
            {
                ParseLegacy(bytes);
                return;
            }
            catch (TensorFormatException ex) when (ex.Problem.Contains("runs past the end", StringComparison.Ordinal) || ex.Problem.Contains("truncated", StringComparison.Ordinal))
            {
                if (window >= length || window >= Array.MaxLength / 2) throw;
                window = (int)Math.Min(length, (long)window * 4);
            }
        }
    }

    private void ParseLegacy(byte[] bytes)
    {
        var pos = 0;
        object? Next(IPickleHost host, out int protocol, out long references)
        {
            var u = new Unpickler(bytes, pos, bytes.Length, _source.Path, host, _limits);
            var value = u.Load();
            pos = u.Position;
            protocol = u.Protocol;
            references = u.References;
            return value;
        }

        var plain = new TorchPickleHost(_source.Path, (_, _, _, _) => throw _source.Error("unexpected storage reference in the file header"), _limits);
        object? magic;
        try
        {
            magic = Next(plain, out _, out _);
        }
        catch (TensorFormatException ex) when (ex is not UnsafePickleException and not TensorLimitException)
        {
            throw _source.Error("not a safetensors or torch file (neither a zip archive nor a legacy torch pickle)", ex);
        }
        var isMagic = magic switch
        {
            BigInteger b => b == LegacyMagic,
            _ => false,
        };
        if (!isMagic) throw _source.Error("not a torch file: the legacy magic number is missing");
        if (Next(plain, out _, out _) is not long protocolVersion || protocolVersion != 1001) throw _source.Error("unsupported legacy torch protocol version");
        var littleEndian = true;
        if (Next(plain, out _, out _) is PyDict sysInfo && sysInfo.TryGet("little_endian", out var le) && le is bool b2) littleEndian = b2;
        ByteOrder = littleEndian ? "little" : "big";

        var pending = new List<TorchStorage>();
        var host = new TorchPickleHost(_source.Path, (key, dtype, numel, location) =>
        {
            var needed = (BigInteger)numel * dtype.ByteSize();
            if (needed > long.MaxValue) throw _source.Error($"storage '{key}' is impossibly large");
            var storage = new TorchStorage(key, dtype, (long)needed, location);
            pending.Add(storage);
            return storage;
        }, _limits);
        Root = Next(host, out var protocol, out _references);
        Protocol = protocol;
        if (Next(plain, out _, out _) is not PyList keys) throw _source.Error("legacy storage key list is missing");
        long offset = pos;
        foreach (var keyObject in keys)
        {
            var key = keyObject switch
            {
                string s => s,
                long l => l.ToString(CultureInfo.InvariantCulture),
                _ => throw _source.Error("legacy storage key is not a string"),
            };
            if (!host.Storages.TryGetValue(key, out var storage)) throw _source.Error($"legacy storage '{key}' is listed but never used, so its type is unknown");
            var countBytes = _source.ReadArray(offset, 8, $"size of legacy storage '{key}'");
            var count = littleEndian ? BinaryPrimitives.ReadInt64LittleEndian(countBytes) : BinaryPrimitives.ReadInt64BigEndian(countBytes);
            var bytesNeeded = (BigInteger)count * storage.DType.ByteSize();
            if (count < 0 || bytesNeeded > _source.Length - offset - 8) throw _source.Error($"legacy storage '{key}' of {count} elements runs past the end of the file");
            if (bytesNeeded < storage.ByteLength) throw _source.Error($"legacy storage '{key}' holds {bytesNeeded} bytes but {storage.ByteLength} are used");
            storage.Source = _source;
            storage.SourceOffset = offset + 8;
            offset += 8 + (long)bytesNeeded;
        }
        foreach (var storage in pending)
        {
            if (storage.Source is null) throw _source.Error($"legacy storage '{storage.Key}' has no data");
        }
    }

    private void CollectTensors()
    {
        Walk(Root, "", 0);
    }

    // Recursion here is bounded by MaxNestingDepth. A tree visits each edge of the pickle's object graph once, and
    // every edge was one push, so a walk may visit a few times as many values as the pickle pushed (room for a
    // container saved under two names); far more means a DAG that reuses containers at every level ("billion laughs").
    private void Walk(object? value, string prefix, int depth)
    {
        if (depth > _limits.MaxNestingDepth)
            throw new TensorLimitException(_source.Path, "the object tree nests too deeply", "PickleLimits." + nameof(PickleLimits.MaxNestingDepth), _limits.MaxNestingDepth);
        if (++_visited > VisitBudget)
            throw new TensorLimitException(_source.Path, $"collecting tensor names visits more than {VisitBudget} values for the {_references} references the pickle holds (containers reused at many levels?)", "PickleLimits." + nameof(PickleLimits.MaxReuseFactor), _limits.MaxReuseFactor);
        if (prefix.Length > _limits.MaxNameLength)
            throw new TensorLimitException(_source.Path, $"a tensor name longer than {_limits.MaxNameLength} characters", "PickleLimits." + nameof(PickleLimits.MaxNameLength), _limits.MaxNameLength);
        switch (value)
        {
            case TorchTensorRef t:
                if (_refs.ContainsKey(prefix)) throw _source.Error($"two tensors are both named '{PyValues.Printable(prefix)}'");
                _refs[prefix] = t;
                _specs.Add(new TensorSpec(prefix, t.DType, t.Shape));
                break;
            case PyDict dict:
                foreach (var (k, v) in dict.Items) Walk(v, Join(prefix, KeyName(k)), depth + 1);
                break;
            case PyList list:
                for (var i = 0; i < list.Count; i++) Walk(list[i], Join(prefix, i.ToString(CultureInfo.InvariantCulture)), depth + 1);
                break;
            case PyTuple tuple:
                for (var i = 0; i < tuple.Items.Count; i++) Walk(tuple.Items[i], Join(prefix, i.ToString(CultureInfo.InvariantCulture)), depth + 1);
                break;
        }
    }

    private long VisitBudget => Math.Min(_limits.MaxObjects, (long)_limits.MaxReuseFactor * _references + 1024);

    private static string KeyName(object? key) => key switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        null => "None",
        _ => PyValues.Repr(key),
    };

    private static string Join(string prefix, string key) => prefix.Length == 0 ? key : prefix + "." + key;
}
