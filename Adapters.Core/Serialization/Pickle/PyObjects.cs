using System.Globalization;
using System.Numerics;
using System.Text;
using Adapters.Hub.Text;

namespace Adapters.Core.Serialization.Pickle;

/// <summary>A Python tuple from a pickle.</summary>
public sealed class PyTuple
{
    /// <summary>Creates a tuple; its nesting depth, expanded size and key hash are computed once from its items.</summary>
    public PyTuple(IReadOnlyList<object?> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        Items = items;
        var depth = 0;
        long values = 1;
        var hash = 17;
        string? unhashable = null;
        foreach (var item in items)
        {
            if (item is PyTuple inner)
            {
                unhashable ??= inner.Unhashable;
                depth = Math.Max(depth, inner.Depth);
                values = values > long.MaxValue - inner.ExpandedValues ? long.MaxValue : values + inner.ExpandedValues;
            }
            else
            {
                unhashable ??= PyValues.UnhashableType(item);
                if (values < long.MaxValue) values++;
            }
            hash = unchecked(hash * 31 + (item is null ? 0 : PyKeyComparer.Instance.GetHashCode(item)));
        }
        Depth = depth + 1;
        ExpandedValues = values;
        KeyHash = hash;
        Unhashable = unhashable;
    }

    /// <summary>The elements.</summary>
    public IReadOnlyList<object?> Items { get; }

    /// <summary>How deeply tuples nest in this one (1 for a tuple of no tuples).</summary>
    internal int Depth { get; }

    /// <summary>The values reached by walking every nested tuple, counting shared ones each time (saturates).</summary>
    internal long ExpandedValues { get; }

    /// <summary>The hash as a dict key, computed from the items' hashes so that hashing never recurses.</summary>
    internal int KeyHash { get; }

    /// <summary>Why this tuple cannot be a dict key (it holds a list, dict or set, at any depth), or null.</summary>
    internal string? Unhashable { get; }

    /// <inheritdoc/>
    public override string ToString() => PyValues.Repr(this);
}

/// <summary>A Python list from a pickle.</summary>
public sealed class PyList : List<object?>
{
    /// <inheritdoc/>
    public override string ToString() => PyValues.Repr(this);
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
    // Made on the first non-null key: a flood of empty dicts then costs a list each, not a hash table each.
    private Dictionary<object, int>? _index;
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
        _index ??= new(PyKeyComparer.Instance);
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
        if (_index is not null && _index.TryGetValue(key, out var i))
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
    private const int MaxReprDepth = 8;
    private const int MaxReprLength = 200;

    /// <summary>
    /// A short Python-like rendering for messages: nesting beyond a few levels becomes <c>...</c>, the text is cut at
    /// a couple of hundred characters, and control characters are escaped, so that a self-referential or hostile
    /// value renders quickly and safely.
    /// </summary>
    public static string Repr(object? value)
    {
        var sb = new StringBuilder();
        Append(sb, value, 0);
        return sb.Length > MaxReprLength ? sb.ToString(0, MaxReprLength) + "..." : sb.ToString();
    }

    /// <summary>Escapes what a terminal would act on (as <see cref="SafeText.Escape"/>) and cuts long text, for messages.</summary>
    public static string Printable(string text, int maxLength = MaxReprLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(Math.Min(text.Length, maxLength) + 8);
        AppendPrintable(sb, text, maxLength);
        return sb.ToString();
    }

    // The escaping is SafeText's, the one rule for untrusted text in messages; only the cut (at most maxLength
    // characters of the value, never half a surrogate pair) is the repr's own.
    private static void AppendPrintable(StringBuilder sb, string text, int maxLength)
    {
        if (text.Length <= maxLength)
        {
            sb.Append(SafeText.Escape(text));
            return;
        }
        var keep = char.IsHighSurrogate(text[maxLength - 1]) ? maxLength - 1 : maxLength;
        sb.Append(SafeText.Escape(text[..keep])).Append("...");
    }

    private static void Append(StringBuilder sb, object? value, int depth)
    {
        if (sb.Length > MaxReprLength) return;
        if (depth > MaxReprDepth && value is PyTuple or PyList or PyDict or PySet)
        {
            sb.Append("...");
            return;
        }
        switch (value)
        {
            case null: sb.Append("None"); break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case string s: sb.Append('\''); AppendPrintable(sb, s, MaxReprLength); sb.Append('\''); break;
            case double d: sb.Append(d.ToString(CultureInfo.InvariantCulture)); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case BigInteger n when n.GetBitLength() > 256: sb.Append("<int of ").Append(n.GetBitLength()).Append(" bits>"); break;
            case BigInteger n: sb.Append(n.ToString(CultureInfo.InvariantCulture)); break;
            case byte[] bytes: sb.Append("b<").Append(bytes.Length).Append(" bytes>"); break;
            case TorchTensorRef t: sb.Append("tensor(").Append(t.DType.TorchName()).Append(", ").Append(TensorShapes.Format(t.Shape)).Append(')'); break;
            case PyTuple t:
                sb.Append('(');
                AppendItems(sb, t.Items, depth);
                sb.Append(t.Items.Count == 1 ? ",)" : ")");
                break;
            case PyList l:
                sb.Append('[');
                AppendItems(sb, l, depth);
                sb.Append(']');
                break;
            case PySet set:
                sb.Append(set.Frozen ? "frozenset({" : "{");
                AppendItems(sb, set, depth);
                sb.Append(set.Frozen ? "})" : "}");
                break;
            case PyDict d:
                sb.Append('{');
                for (var i = 0; i < d.Items.Count && sb.Length <= MaxReprLength; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Append(sb, d.Items[i].Key, depth + 1);
                    sb.Append(": ");
                    Append(sb, d.Items[i].Value, depth + 1);
                }
                sb.Append('}');
                break;
            case PyGlobal g: AppendPrintable(sb, g.FullName, MaxReprLength); break;
            default: AppendPrintable(sb, value.ToString() ?? "?", MaxReprLength); break;
        }
    }

    private static void AppendItems(StringBuilder sb, IReadOnlyList<object?> items, int depth)
    {
        for (var i = 0; i < items.Count && sb.Length <= MaxReprLength; i++)
        {
            if (i > 0) sb.Append(", ");
            Append(sb, items[i], depth + 1);
        }
    }

    /// <summary>
    /// Why <paramref name="key"/> cannot be a dict key (Python's "unhashable type", or a tuple key expanding to more
    /// than <paramref name="maxValues"/> values), or null when it can. Constant time: tuples know both already.
    /// </summary>
    internal static string? Unhashable(object? key, int maxValues)
    {
        if (key is not PyTuple tuple) return UnhashableType(key);
        if (tuple.ExpandedValues > maxValues) return $"a tuple key expanding to more than {maxValues} values";
        return tuple.Unhashable;
    }

    internal static string? UnhashableType(object? value) => value switch
    {
        PyList => "unhashable type: 'list'",
        PyDict => "unhashable type: 'dict'",
        PySet { Frozen: false } => "unhashable type: 'set'",
        _ => null,
    };
}

/// <summary>
/// Equality for hashable Python keys: str, int, bool, float, bytes, tuples of those. Tuples hash from their cached
/// <see cref="PyTuple.KeyHash"/> and compare with an explicit stack, so no key makes either recurse.
/// </summary>
internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y)
    {
        if (x is PyTuple || y is PyTuple) return TuplesEqual(x, y);
        return ScalarEquals(x, y);
    }

    private static bool ScalarEquals(object? x, object? y)
    {
        if (ReferenceEquals(x, y)) return true;
        if (x is null || y is null) return false;
        if (Numeric(x) is BigInteger a && Numeric(y) is BigInteger b) return a == b;
        return (x, y) switch
        {
            (string s, string t) => string.Equals(s, t, StringComparison.Ordinal),
            (double d, double e) => d.Equals(e),
            (byte[] p, byte[] q) => p.AsSpan().SequenceEqual(q),
            _ => false,
        };
    }

    private static bool TuplesEqual(object? x, object? y)
    {
        var pending = new Stack<(object? X, object? Y)>();
        pending.Push((x, y));
        while (pending.Count > 0)
        {
            var (a, b) = pending.Pop();
            if (ReferenceEquals(a, b)) continue;
            if (a is PyTuple p && b is PyTuple q)
            {
                if (p.Items.Count != q.Items.Count || p.KeyHash != q.KeyHash || p.ExpandedValues != q.ExpandedValues) return false;
                for (var i = 0; i < p.Items.Count; i++) pending.Push((p.Items[i], q.Items[i]));
            }
            else if (a is PyTuple || b is PyTuple || !ScalarEquals(a, b))
            {
                return false;
            }
        }
        return true;
    }

    public int GetHashCode(object obj) => obj switch
    {
        string s => StringComparer.Ordinal.GetHashCode(s),
        PyTuple t => t.KeyHash,
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
