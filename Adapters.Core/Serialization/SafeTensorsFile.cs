using System.Buffers.Binary;
using System.Text.Json;
using static TorchSharp.torch;

namespace Adapters.Core.Serialization;

/// <summary>
/// A safetensors file, validated as the reference Rust implementation validates it, with each tensor read
/// lazily from a memory map.
/// </summary>
public sealed class SafeTensorsFile : TensorFile
{
    /// <summary>The largest header the reference implementation accepts (100,000,000 bytes).</summary>
    public const long MaxHeaderSize = 100_000_000;

    private const int StreamChunk = 16 << 20;

    private readonly ByteSource _source;
    private readonly List<TensorSpec> _specs;
    private readonly Dictionary<string, long> _offsets;

    private SafeTensorsFile(ByteSource source, long headerSize, List<TensorSpec> specs, Dictionary<string, long> offsets,
        List<KeyValuePair<string, string>>? metadata)
    {
        _source = source;
        HeaderSize = headerSize;
        _specs = specs;
        _offsets = offsets;
        MetadataList = metadata;
    }

    /// <summary>Opens and validates a file; the data stays on disk (memory-mapped) until a tensor is read.</summary>
    /// <exception cref="TensorFormatException">The file is not valid safetensors.</exception>
    public static SafeTensorsFile Open(string path)
    {
        var source = ByteSource.OpenFile(path);
        try
        {
            return Parse(source);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Validates safetensors bytes held in memory (the array is not copied).</summary>
    public static SafeTensorsFile FromBytes(byte[] data, string? name = null) => Parse(ByteSource.FromArray(data, name));

    /// <summary>The length of the JSON header in bytes (the 8-byte length prefix excluded).</summary>
    public long HeaderSize { get; }

    /// <summary>Where the byte buffer starts in the file.</summary>
    public long DataStart => 8 + HeaderSize;

    private List<KeyValuePair<string, string>>? MetadataList { get; }

    /// <inheritdoc/>
    public override string? FilePath => _source.Path;

    /// <inheritdoc/>
    public override TensorFileFormat Format => TensorFileFormat.Safetensors;

    /// <inheritdoc/>
    public override IReadOnlyList<TensorSpec> Tensors => _specs;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>>? Metadata => MetadataList;

    /// <summary>The tensor's <c>data_offsets</c> start, relative to <see cref="DataStart"/>.</summary>
    public long DataOffset(string name) => _offsets.TryGetValue(name, out var o) ? o : throw new KeyNotFoundException($"{FilePath}: no tensor named '{name}'");

    /// <inheritdoc/>
    public override void ReadValues(string name, Action<ReadOnlySpan<byte>> sink)
    {
        var spec = GetSpec(name);
        var start = DataStart + _offsets[name];
        if (spec.ByteLength == 0)
        {
            sink([]);
            return;
        }
        var buffer = new byte[(int)Math.Min(StreamChunk, spec.ByteLength)];
        for (long done = 0; done < spec.ByteLength;)
        {
            var n = (int)Math.Min(buffer.Length, spec.ByteLength - done);
            _source.Read(start + done, buffer.AsSpan(0, n));
            sink(buffer.AsSpan(0, n));
            done += n;
        }
    }

    /// <inheritdoc/>
    public override Tensor LoadTensor(string name)
    {
        var spec = GetSpec(name);
        return TorchBridge.FromSource(_source, DataStart + _offsets[name], spec.DType, spec.Shape, spec.ByteLength);
    }

    /// <summary>Loads every tensor, copying on all cores.</summary>
    public override StateDict LoadAll()
    {
        var requests = _specs.Select(s => new TorchBridge.SourceRequest(s.DType, s.Shape, s.ByteLength, _source, DataStart + _offsets[s.Name])).ToList();
        var tensors = TorchBridge.FromSources(requests);
        var result = new StateDict { Metadata = Metadata };
        for (var i = 0; i < tensors.Length; i++) result.Add(_specs[i].Name, tensors[i], _specs[i].DType);
        return result;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _source.Dispose();
    }

    private static SafeTensorsFile Parse(ByteSource source)
    {
        if (source.Length < 8) throw source.Error("not a safetensors file: header too small (fewer than 8 bytes)");
        Span<byte> prefix = stackalloc byte[8];
        source.Read(0, prefix);
        var n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderSize) throw source.Error($"header too large: declared length {n} exceeds {MaxHeaderSize} bytes");
        if ((long)n > source.Length - 8) throw source.Error($"invalid header length: declared {n} bytes but the file has only {source.Length - 8} after the length prefix");
        var header = source.ReadArray(8, (long)n, "header");
        if (!System.Text.Unicode.Utf8.IsValid(header)) throw source.Error("invalid header: not valid UTF-8");

        List<KeyValuePair<string, string>>? metadata = null;
        var entries = new List<(string Name, TensorDType DType, long[] Shape, ulong Start, ulong End)>();
        try
        {
            using var doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 64 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw source.Error("invalid JSON in header: the header is not a JSON object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw source.Error($"invalid JSON in header: duplicate key `{property.Name}`");
                if (property.Name == "__metadata__")
                {
                    metadata = ParseMetadata(source, property.Value);
                    continue;
                }
                entries.Add(ParseTensor(source, property.Name, property.Value));
            }
        }
        catch (JsonException ex)
        {
            throw source.Error($"invalid JSON in header: {ex.Message.ReplaceLineEndings(" ")}", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw source.Error($"invalid JSON in header: {ex.Message.ReplaceLineEndings(" ")}", ex);
        }

        // The reference sorts by data offsets (older writers used other orders) and then requires the tensors to
        // tile the buffer from 0 with no gap or overlap.
        entries.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.End.CompareTo(b.End));
        ulong cursor = 0;
        var specs = new List<TensorSpec>(entries.Count);
        var offsets = new Dictionary<string, long>(entries.Count, StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (e.Start != cursor || e.End < e.Start) throw source.Error($"invalid offset for tensor `{e.Name}`: data_offsets [{e.Start}, {e.End}] but the previous tensor ends at {cursor}");
            cursor = e.End;
            var elements = TensorShapes.ElementCount(e.Shape)
                ?? throw source.Error($"overflow computing buffer size from shape {TensorShapes.Format(e.Shape)} of tensor `{e.Name}`");
            var bits = (System.Numerics.BigInteger)elements * e.DType.BitSize();
            if (bits % 8 != 0) throw source.Error($"misaligned slice: tensor `{e.Name}` of {e.DType.SafetensorsName()} {TensorShapes.Format(e.Shape)} is not a whole number of bytes");
            if (bits / 8 > long.MaxValue) throw source.Error($"overflow computing buffer size for tensor `{e.Name}`");
            var size = (ulong)(bits / 8);
            if (e.End - e.Start != size)
                throw source.Error($"invalid shape, data type, or offset for tensor `{e.Name}`: {e.DType.SafetensorsName()} {TensorShapes.Format(e.Shape)} needs {size} bytes but data_offsets [{e.Start}, {e.End}] span {e.End - e.Start}");
            specs.Add(new TensorSpec(e.Name, e.DType, e.Shape));
            offsets.Add(e.Name, (long)e.Start);
        }
        if (cursor + 8 + n != (ulong)source.Length)
            throw source.Error($"incomplete metadata, file not fully covered: header and tensors end at byte {cursor + 8 + n} but the file has {source.Length} bytes");
        return new SafeTensorsFile(source, (long)n, specs, offsets, metadata);
    }

    private static List<KeyValuePair<string, string>>? ParseMetadata(ByteSource source, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Object) throw source.Error("invalid JSON in header: `__metadata__` must be an object of strings");
        var list = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String) throw source.Error($"invalid JSON in header: `__metadata__` value for `{p.Name}` is not a string");
            if (!seen.Add(p.Name)) throw source.Error($"invalid JSON in header: duplicate `__metadata__` key `{p.Name}`");
            list.Add(new(p.Name, p.Value.GetString()!));
        }
        return list;
    }

    private static (string, TensorDType, long[], ulong, ulong) ParseTensor(ByteSource source, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object) throw source.Error($"invalid JSON in header: entry `{name}` is not an object");
        TensorDType? dtype = null;
        long[]? shape = null;
        ulong[]? offsets = null;
        foreach (var p in value.EnumerateObject())
        {
            switch (p.Name)
            {
                case "dtype":
                    if (dtype is not null) throw source.Error($"invalid JSON in header: duplicate field `dtype` in `{name}`");
                    if (p.Value.ValueKind != JsonValueKind.String || !TensorDTypes.TryParseSafetensors(p.Value.GetString()!, out var d))
                        throw source.Error($"invalid JSON in header: unknown dtype {p.Value.GetRawText()} for tensor `{name}`");
                    dtype = d;
                    break;
                case "shape":
                    if (shape is not null) throw source.Error($"invalid JSON in header: duplicate field `shape` in `{name}`");
                    shape = ReadUnsignedArray(source, name, "shape", p.Value, null).Select(u => u <= long.MaxValue ? (long)u
                        : throw source.Error($"overflow computing buffer size: dimension {u} of tensor `{name}`")).ToArray();
                    break;
                case "data_offsets":
                    if (offsets is not null) throw source.Error($"invalid JSON in header: duplicate field `data_offsets` in `{name}`");
                    offsets = ReadUnsignedArray(source, name, "data_offsets", p.Value, 2);
                    break;
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw source.Error($"invalid JSON in header: tensor `{name}` lacks {(dtype is null ? "`dtype`" : shape is null ? "`shape`" : "`data_offsets`")}");
        return (name, dtype.Value, shape, offsets[0], offsets[1]);
    }

    private static ulong[] ReadUnsignedArray(ByteSource source, string name, string field, JsonElement value, int? exactLength)
    {
        if (value.ValueKind != JsonValueKind.Array) throw source.Error($"invalid JSON in header: `{field}` of `{name}` is not an array");
        var count = value.GetArrayLength();
        if (exactLength is int want && count != want) throw source.Error($"invalid JSON in header: `{field}` of `{name}` must have {want} elements");
        var result = new ulong[count];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetUInt64(out var u))
                throw source.Error($"invalid JSON in header: `{field}` of `{name}` holds {item.GetRawText()}, not a non-negative integer");
            result[i++] = u;
        }
        return result;
    }
}
