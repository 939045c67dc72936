using System.Numerics;

namespace Adapters.Core.Serialization.Pickle;

/// <summary>A Python tuple from a pickle.</summary>
public sealed class PyTuple(IReadOnlyList<object?> items)
{
    /// <summary>The elements.</summary>
    public IReadOnlyList<object?> Items { get; } = items;

    /// <inheritdoc/>
    public override string ToString() => "(" + string.Join(", ", Items.Select(PyValues.Repr)) + (Items.Count == 1 ? ",)" : ")");
}

/// <summary>A Python list from a pickle.</summary>
public sealed class PyList : List<object?>
{
    /// <inheritdoc/>
    public override string ToString() => "[" + string.Join(", ", this.Select(PyValues.Repr)) + "]";
}

/// <summary>A Python set or frozenset from a pickle.</summary>
public sealed class PySet : List<object?>
{
    /// <summary>Whether it was a frozenset.</summary>
    public bool Frozen { get; init; }
}

/// <summary>A Python <c>dict</c> or <c>collections.OrderedDict</c>, keeping insertion order.</summary>
public sealed class PyDict
{
    private readonly List<KeyValuePair<object?, object?>> _items = [];
    private readonly Dictionary<object, int> _index = new(PyKeyComparer.Instance);
    private int _nullKey = -1;

    /// <summary>Whether this was an <c>OrderedDict</c>.</summary>
    public bool Ordered { get; init; }

    /// <summary>Attributes set by BUILD (e.g. a state dict's <c>_metadata</c>).</summary>
    public PyDict? Attributes { get; set; }

    /// <summary>The entries in insertion order.</summary>
    public IReadOnlyList<KeyValuePair<object?, object?>> Items => _items;

    /// <summary>Number of entries.</summary>
    public int Count => _items.Count;

    /// <summary>Sets a key (replacing an equal key's value in place, as Python does).</summary>
    public void Set(object? key, object? value)
    {
        if (key is null)
        {
            if (_nullKey >= 0) _items[_nullKey] = new(key, value);
            else { _nullKey = _items.Count; _items.Add(new(key, value)); }
            return;
        }
        if (_index.TryGetValue(key, out var i))
        {
            _items[i] = new(_items[i].Key, value);
            return;
        }
        _index[key] = _items.Count;
        _items.Add(new(key, value));
    }

    /// <summary>Looks up a string key.</summary>
    public bool TryGet(string key, out object? value)
    {
        if (_index.TryGetValue(key, out var i))
        {
            value = _items[i].Value;
            return true;
        }
        value = null;
        return false;
    }
}

/// <summary>A reference to an allowed Python global (a class or function), never resolved to code.</summary>
public sealed record PyGlobal(string Module, string Name)
{
    /// <summary><c>module.name</c>.</summary>
    public string FullName => Module + "." + Name;

    /// <inheritdoc/>
    public override string ToString() => FullName;
}

/// <summary>A torch storage referenced by a persistent id: where its bytes are and how many.</summary>
public sealed class TorchStorage
{
    internal TorchStorage(string key, TensorDType dtype, long byteLength, string location)
    {
        Key = key;
        DType = dtype;
        ByteLength = byteLength;
        Location = location;
    }

    /// <summary>The storage key (<c>data/&lt;key&gt;</c> in zip files).</summary>
    public string Key { get; }

    /// <summary>The storage's element type (U8 for an untyped storage).</summary>
    public TensorDType DType { get; }

    /// <summary>Size in bytes.</summary>
    public long ByteLength { get; }

    /// <summary>The device it was saved from (<c>cpu</c>, <c>cuda:0</c>).</summary>
    public string Location { get; }

    internal ByteSource? Source { get; set; }

    internal long SourceOffset { get; set; }

    /// <summary>Element offset of an old-style storage view into its root storage.</summary>
    internal long ViewOffsetBytes { get; init; }

    internal TorchStorage? Root { get; init; }
}

/// <summary>A tensor in a torch pickle: a view (offset, shape, strides) of a storage. Nothing is loaded.</summary>
public sealed class TorchTensorRef
{
    internal TorchTensorRef(TorchStorage storage, TensorDType dtype, long storageOffset, long[] shape, long[] stride, bool requiresGrad)
    {
        Storage = storage;
        DType = dtype;
        StorageOffset = storageOffset;
        Shape = shape;
        Stride = stride;
        RequiresGrad = requiresGrad;
    }

    /// <summary>The storage it views.</summary>
    public TorchStorage Storage { get; }

    /// <summary>The element type.</summary>
    public TensorDType DType { get; }

    /// <summary>Offset into the storage, in elements of <see cref="DType"/>.</summary>
    public long StorageOffset { get; }

    /// <summary>The shape.</summary>
    public long[] Shape { get; }

    /// <summary>Strides in elements.</summary>
    public long[] Stride { get; }

    /// <summary>Whether it was saved with <c>requires_grad</c>.</summary>
    public bool RequiresGrad { get; }

    /// <summary>Whether it was an <c>nn.Parameter</c>.</summary>
    public bool IsParameter { get; internal set; }

    /// <summary>Whether the strides are row-major contiguous (size-1 dims ignored).</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (var i = Shape.Length - 1; i >= 0; i--)
            {
                if (Shape[i] == 0) return true;
                if (Shape[i] != 1 && Stride[i] != expected) return false;
                expected *= Shape[i];
            }
            return true;
        }
    }
}

/// <summary>Helpers for Python values.</summary>
public static class PyValues
{
    /// <summary>A short Python-like rendering.</summary>
    public static string Repr(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => "'" + s + "'",
        double d => d.ToString(System.Globalization.CultureInfo.InvariantCulture),
        byte[] bytes => $"b<{bytes.Length} bytes>",
        TorchTensorRef t => $"tensor({t.DType.TorchName()}, {TensorShapes.Format(t.Shape)})",
        PyDict d => "{" + string.Join(", ", d.Items.Select(kv => Repr(kv.Key) + ": " + Repr(kv.Value))) + "}",
        _ => value.ToString() ?? "?",
    };
}

/// <summary>Equality for hashable Python keys: str, int, bool, float, bytes, tuples of those.</summary>
internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y)
    {
        if (ReferenceEquals(x, y)) return true;
        if (x is null || y is null) return false;
        if (Numeric(x) is BigInteger a && Numeric(y) is BigInteger b) return a == b;
        return (x, y) switch
        {
            (string s, string t) => string.Equals(s, t, StringComparison.Ordinal),
            (double d, double e) => d.Equals(e),
            (byte[] p, byte[] q) => p.AsSpan().SequenceEqual(q),
            (PyTuple p, PyTuple q) => p.Items.Count == q.Items.Count && p.Items.Zip(q.Items).All(z => z.First is null ? z.Second is null : z.Second is not null && Equals(z.First, z.Second)),
            _ => false,
        };
    }

    public int GetHashCode(object obj) => obj switch
    {
        string s => StringComparer.Ordinal.GetHashCode(s),
        PyTuple t => t.Items.Aggregate(17, (h, i) => h * 31 + (i is null ? 0 : GetHashCode(i))),
        byte[] b => b.Length,
        _ when Numeric(obj) is BigInteger n => n.GetHashCode(),
        _ => obj.GetHashCode(),
    };

    private static BigInteger? Numeric(object o) => o switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        BigInteger n => n,
        _ => null,
    };
}
