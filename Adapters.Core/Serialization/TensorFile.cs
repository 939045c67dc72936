using static TorchSharp.torch;

namespace Adapters.Core.Serialization;

/// <summary>The kinds of tensor files this library reads and writes.</summary>
public enum TensorFileFormat
{
    /// <summary>A single <c>.safetensors</c> file.</summary>
    Safetensors,
    /// <summary>A sharded safetensors checkpoint read through its <c>model.safetensors.index.json</c>.</summary>
    SafetensorsSharded,
    /// <summary>A <c>torch.save</c> zip archive (PyTorch 1.6 and later).</summary>
    TorchZip,
    /// <summary>A legacy (pre-1.6, <c>_use_new_zipfile_serialization=False</c>) torch pickle.</summary>
    TorchLegacy,
}

/// <summary>
/// An open tensor file. Tensors are read lazily, one at a time, from a memory map of the file; nothing is
/// loaded until asked for. Dispose it to release the map.
/// </summary>
public abstract class TensorFile : IDisposable
{
    private Dictionary<string, TensorSpec>? _byName;

    /// <summary>The file this was opened from, or null for in-memory data.</summary>
    public abstract string? FilePath { get; }

    /// <summary>Which format the file is in.</summary>
    public abstract TensorFileFormat Format { get; }

    /// <summary>Every tensor, in file order.</summary>
    public abstract IReadOnlyList<TensorSpec> Tensors { get; }

    /// <summary>The safetensors <c>__metadata__</c> (in file order), or null when absent or not applicable.</summary>
    public virtual IReadOnlyList<KeyValuePair<string, string>>? Metadata => null;

    /// <summary>Whether a tensor with this name exists.</summary>
    public bool Contains(string name) => ByName.ContainsKey(name);

    /// <summary>The spec of one tensor.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public TensorSpec GetSpec(string name) =>
        ByName.TryGetValue(name, out var spec) ? spec : throw new KeyNotFoundException($"{FilePath ?? "tensor data"}: no tensor named '{name}'");

    private Dictionary<string, TensorSpec> ByName => _byName ??= Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>
    /// Streams one tensor's logical values as contiguous, row-major, little-endian bytes (views and strided
    /// tensors come out as their values, not their storage), in one or more chunks.
    /// </summary>
    public abstract void ReadValues(string name, Action<ReadOnlySpan<byte>> sink);

    /// <summary>Reads one tensor's values into memory.</summary>
    public RawTensor ReadRaw(string name)
    {
        var spec = GetSpec(name);
        if (spec.ByteLength > Array.MaxLength)
            throw new TensorFormatException(FilePath, $"tensor '{name}' has {spec.ByteLength} bytes, too many for one array; load it as a TorchSharp tensor instead");
        var buffer = GC.AllocateUninitializedArray<byte>((int)spec.ByteLength);
        var at = 0;
        ReadValues(name, chunk =>
        {
            chunk.CopyTo(buffer.AsSpan(at));
            at += chunk.Length;
        });
        return new RawTensor(spec.DType, spec.Shape, buffer);
    }

    /// <summary>
    /// Loads one tensor into a new CPU TorchSharp tensor (the caller owns it). Types TorchSharp lacks keep their
    /// raw bits in a carrier type (see <see cref="TensorDTypes.CarrierScalarType"/>).
    /// </summary>
    public abstract Tensor LoadTensor(string name);

    /// <summary>Loads every tensor.</summary>
    public virtual StateDict LoadAll()
    {
        var result = new StateDict { Metadata = Metadata };
        try
        {
            foreach (var spec in Tensors) result.Add(spec.Name, LoadTensor(spec.Name), spec.DType);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Payloads that stream every tensor of this file into a writer (for conversion).</summary>
    public IEnumerable<TensorPayload> AsPayloads() => Tensors.Select(t => TensorPayload.FromFile(this, t.Name));

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the file.</summary>
    protected abstract void Dispose(bool disposing);
}

/// <summary>A tensor's values in memory: contiguous, row-major, little-endian bytes.</summary>
public sealed class RawTensor
{
    /// <summary>Creates a raw tensor; the byte count must match the shape and dtype.</summary>
    public RawTensor(TensorDType dtype, IReadOnlyList<long> shape, ReadOnlyMemory<byte> data)
    {
        DType = dtype;
        Shape = [.. shape];
        var elements = TensorShapes.ElementCount(Shape) ?? throw new ArgumentException("shape overflows", nameof(shape));
        var bytes = TensorShapes.ByteLength(elements, dtype) ?? throw new ArgumentException("shape is not a whole number of bytes", nameof(shape));
        if (bytes != data.Length) throw new ArgumentException($"{data.Length} bytes given for {bytes} expected", nameof(data));
        Data = data;
    }

    /// <summary>The element type.</summary>
    public TensorDType DType { get; }

    /// <summary>The shape.</summary>
    public long[] Shape { get; }

    /// <summary>The values.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Copies the values into a new TorchSharp tensor (carrier type where TorchSharp lacks the dtype).</summary>
    public Tensor ToTensor() => TorchBridge.FromBytes(Data, DType, Shape);

    /// <summary>Copies a TorchSharp tensor's values; <paramref name="dtype"/> names the file type of a carrier tensor.</summary>
    public static RawTensor FromTensor(Tensor tensor, TensorDType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var type = dtype ?? TensorDTypes.FromScalarType(tensor.dtype);
        var bytes = new MemoryStream();
        TorchBridge.CopyOut(tensor, chunk => bytes.Write(chunk));
        return new RawTensor(type, tensor.shape, bytes.ToArray());
    }
}

/// <summary>One tensor to be written: its spec and a way to stream its values.</summary>
public abstract class TensorPayload
{
    /// <summary>Name, dtype and shape.</summary>
    public abstract TensorSpec Spec { get; }

    /// <summary>Streams the values as contiguous row-major little-endian bytes; the total must be <c>Spec.ByteLength</c>.</summary>
    public abstract void WriteTo(Action<ReadOnlySpan<byte>> sink);

    /// <summary>A TorchSharp tensor. <paramref name="dtype"/> overrides the file type (for carrier tensors such as U16 held as Int16).</summary>
    public static TensorPayload FromTensor(string name, Tensor tensor, TensorDType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var type = dtype ?? TensorDTypes.FromScalarType(tensor.dtype);
        if (TorchBridge.ElementSize(type.CarrierScalarType()) != tensor.element_size() && type.BitSize() >= 8)
            throw new ArgumentException($"tensor '{name}' of {tensor.dtype} cannot be written as {type}", nameof(dtype));
        if (type.BitSize() < 8)
            throw new ArgumentException($"tensor '{name}': {type} packs several values per byte; write it from raw bytes", nameof(dtype));
        return new Delegated(new TensorSpec(name, type, tensor.shape), sink => TorchBridge.CopyOut(tensor, sink));
    }

    /// <summary>Values already in memory.</summary>
    public static TensorPayload FromRaw(string name, RawTensor raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        return new Delegated(new TensorSpec(name, raw.DType, raw.Shape), sink => sink(raw.Data.Span));
    }

    /// <summary>A tensor of an open file, streamed when written.</summary>
    public static TensorPayload FromFile(TensorFile file, string name)
    {
        ArgumentNullException.ThrowIfNull(file);
        var spec = file.GetSpec(name);
        return new Delegated(spec, sink => file.ReadValues(name, sink));
    }

    /// <summary>Any source of bytes.</summary>
    public static TensorPayload Create(TensorSpec spec, Action<Action<ReadOnlySpan<byte>>> writeTo) => new Delegated(spec, writeTo);

    private sealed class Delegated(TensorSpec spec, Action<Action<ReadOnlySpan<byte>>> writeTo) : TensorPayload
    {
        public override TensorSpec Spec => spec;

        public override void WriteTo(Action<ReadOnlySpan<byte>> sink)
        {
            long total = 0;
            writeTo(chunk =>
            {
                total += chunk.Length;
                if (total > spec.ByteLength) throw new InvalidDataException($"tensor '{spec.Name}' produced more than its {spec.ByteLength} bytes");
                sink(chunk);
            });
            if (total != spec.ByteLength) throw new InvalidDataException($"tensor '{spec.Name}' produced {total} bytes, expected {spec.ByteLength}");
        }
    }
}

/// <summary>
/// Loaded tensors by name, in file order, with each tensor's file dtype (which differs from the TorchSharp type
/// for carrier tensors such as U16 or FP8). Disposing it disposes the tensors.
/// </summary>
public sealed class StateDict : IReadOnlyDictionary<string, Tensor>, IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorDType> _dtypes = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>The safetensors metadata the tensors came with, if any.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Metadata { get; set; }

    /// <summary>Adds a tensor (the dict takes ownership).</summary>
    public void Add(string name, Tensor tensor, TensorDType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (_tensors.ContainsKey(name)) throw new ArgumentException($"duplicate tensor name '{name}'", nameof(name));
        _tensors.Add(name, tensor);
        _dtypes.Add(name, dtype ?? TensorDTypes.FromScalarType(tensor.dtype));
        _order.Add(name);
    }

    /// <summary>The file dtype of a tensor.</summary>
    public TensorDType DTypeOf(string name) => _dtypes[name];

    /// <summary>Payloads for writing these tensors, in order.</summary>
    public IEnumerable<TensorPayload> AsPayloads() => _order.Select(n => TensorPayload.FromTensor(n, _tensors[n], _dtypes[n]));

    /// <inheritdoc/>
    public Tensor this[string key] => _tensors[key];

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _order;

    /// <inheritdoc/>
    public IEnumerable<Tensor> Values => _order.Select(n => _tensors[n]);

    /// <inheritdoc/>
    public int Count => _order.Count;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _tensors.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor value) => _tensors.TryGetValue(key, out value);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _order.Select(n => new KeyValuePair<string, Tensor>(n, _tensors[n])).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
        _order.Clear();
    }
}
