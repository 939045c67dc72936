using System.Numerics;
using System.Text;

namespace Adapters.Core.Serialization.Pickle;

/// <summary>
/// The restricted world a torch pickle may refer to, like <c>torch.load(weights_only=True)</c>: containers,
/// tensor rebuild functions, storage classes and dtypes. Any other global raises <see cref="UnsafePickleException"/>.
/// </summary>
internal sealed class TorchPickleHost : IPickleHost
{
    /// <summary>Resolves a storage key to its bytes (zip entry or legacy storage section).</summary>
    public delegate TorchStorage StorageResolver(string key, TensorDType dtype, long elementCount, string location);

    private static readonly HashSet<string> s_allowed = BuildAllowList();

    private readonly string? _path;
    private readonly StorageResolver _resolver;
    private readonly PickleLimits _limits;
    private readonly Dictionary<string, TorchStorage> _storages = new(StringComparer.Ordinal);

    public TorchPickleHost(string? path, StorageResolver resolver, PickleLimits limits)
    {
        _limits = limits;
        _path = path;
        _resolver = resolver;
    }

    /// <summary>Storages met so far, by key.</summary>
    public IReadOnlyDictionary<string, TorchStorage> Storages => _storages;

    /// <summary>Whether <c>module.name</c> is on the allow-list.</summary>
    public static bool IsAllowed(string module, string name) => s_allowed.Contains(module + "." + name);

    private static HashSet<string> BuildAllowList()
    {
        var set = new HashSet<string>(StringComparer.Ordinal)
        {
            "collections.OrderedDict", "collections.Counter",
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
            "torch.nn.parameter.Parameter", "torch.Size", "torch.device", "torch.serialization._get_layout",
            "torch.UntypedStorage", "torch.storage.UntypedStorage", "torch.storage._LegacyStorage",
            "_codecs.encode", "builtins.bytearray", "builtins.set", "builtins.frozenset", "builtins.complex",
            "__builtin__.set", "__builtin__.frozenset", "__builtin__.bytearray", "__builtin__.complex",
        };
        foreach (var dtype in Enum.GetValues<TensorDType>())
        {
            set.Add("torch." + dtype.TorchName());
            if (dtype.LegacyStorageName() is string storage) set.Add("torch." + storage);
        }
        foreach (var alias in new[] { "half", "float", "double", "long", "int", "short", "cfloat", "cdouble" }) set.Add("torch." + alias);
        return set;
    }

    public PyGlobal FindClass(string module, string name)
    {
        if (!IsAllowed(module, name)) throw new UnsafePickleException(_path, module + "." + name);
        return new PyGlobal(module, name);
    }

    private TensorFormatException Error(string problem) => new(_path, "invalid torch pickle: " + problem);

    public object? Call(PyGlobal callable, IReadOnlyList<object?> args)
    {
        switch (callable.FullName)
        {
            case "collections.OrderedDict":
            case "collections.Counter":
                {
                    var dict = new PyDict { Ordered = callable.Name == "OrderedDict" };
                    if (args.Count > 0 && args[0] is IEnumerable<object?> pairs)
                    {
                        foreach (var pair in pairs)
                        {
                            var (key, value) = pair switch
                            {
                                PyTuple { Items.Count: 2 } t => (t.Items[0], t.Items[1]),
                                PyList { Count: 2 } l => (l[0], l[1]),
                                _ => throw Error($"{callable.FullName} argument is not a list of pairs"),
                            };
                            if (key is PyTuple { ExpandedValues: var n } && n > _limits.MaxKeyValues)
                                throw new TensorLimitException(_path, $"a {callable.FullName} key expanding to more than {_limits.MaxKeyValues} values", "PickleLimits." + nameof(PickleLimits.MaxKeyValues), _limits.MaxKeyValues);
                            if (PyValues.Unhashable(key, _limits.MaxKeyValues) is string problem) throw Error($"{callable.FullName} key: {problem}");
                            dict.Set(key, value);
                        }
                    }
                    return dict;
                }
            case "torch._utils._rebuild_tensor":
                Need(callable, args, 4);
                return MakeTensor(args[0], args[1], args[2], args[3], false, null);
            case "torch._utils._rebuild_tensor_v2":
                Need(callable, args, 6);
                return MakeTensor(args[0], args[1], args[2], args[3], args[4], null);
            case "torch._utils._rebuild_tensor_v3":
                Need(callable, args, 7);
                return MakeTensor(args[0], args[1], args[2], args[3], args[4], args[6]);
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
            case "torch.nn.parameter.Parameter":
                {
                    if (args.Count < 1 || args[0] is not TorchTensorRef data) throw Error($"{callable.FullName} without a tensor");
                    data.IsParameter = true;
                    return data;
                }
            case "torch.Size":
                if (args.Count == 0) return new PyTuple([]);
                return args[0] switch
                {
                    PyTuple t => t,
                    PyList l => new PyTuple([.. l]),
                    _ => throw Error("torch.Size argument is not a sequence"),
                };
            case "torch.device":
                return string.Join(":", args.Select(a => a?.ToString()));
            case "torch.serialization._get_layout":
                return args.Count > 0 ? args[0] : null;
            case "_codecs.encode":
                {
                    if (args.Count < 1 || args[0] is not string s) throw Error("_codecs.encode without a string");
                    var encoding = args.Count > 1 ? args[1] as string : "utf-8";
                    return encoding is "latin1" or "latin-1" or "iso-8859-1" ? Encoding.Latin1.GetBytes(s) : Encoding.UTF8.GetBytes(s);
                }
            case "builtins.bytearray":
            case "__builtin__.bytearray":
                return args.Count == 0 ? [] : args[0] switch
                {
                    byte[] b => b,
                    PyList l => l.Select(v => v is long n and >= 0 and <= 255 ? (byte)n : throw Error("bytearray item is not a byte")).ToArray(),
                    _ => throw Error("bytearray argument is not bytes"),
                };
            case "builtins.set":
            case "builtins.frozenset":
            case "__builtin__.set":
            case "__builtin__.frozenset":
                {
                    var set = new PySet { Frozen = callable.Name == "frozenset" };
                    if (args.Count > 0 && args[0] is IEnumerable<object?> items) set.AddRange(items);
                    return set;
                }
            case "builtins.complex":
            case "__builtin__.complex":
                return new Complex(AsDouble(args.Count > 0 ? args[0] : 0.0), AsDouble(args.Count > 1 ? args[1] : 0.0));
            default:
                throw Error($"{callable.FullName} cannot be called");
        }
    }

    private double AsDouble(object? v) => v switch
    {
        double d => d,
        long l => l,
        _ => throw Error("complex part is not a number"),
    };

    private void Need(PyGlobal callable, IReadOnlyList<object?> args, int count)
    {
        if (args.Count < count) throw Error($"{callable.FullName} takes {count} arguments, got {args.Count}");
    }

    private TorchTensorRef MakeTensor(object? storageArg, object? offsetArg, object? sizeArg, object? strideArg, object? requiresGradArg, object? dtypeArg)
    {
        if (storageArg is not TorchStorage storage) throw Error("tensor rebuilt from something that is not a storage");
        var dtype = storage.DType;
        if (dtypeArg is not null)
        {
            if (dtypeArg is not PyGlobal g || g.Module != "torch" || !TensorDTypes.TryParseTorchName(g.Name, out dtype))
                throw Error("_rebuild_tensor_v3 dtype is not a torch dtype");
        }
        if (offsetArg is not long offset || offset < 0) throw Error("storage offset is not a non-negative integer");
        var shape = Longs(sizeArg, "size");
        var stride = Longs(strideArg, "stride");
        if (stride.Length != shape.Length) throw Error($"size {TensorShapes.Format(shape)} and stride {TensorShapes.Format(stride)} differ in length");
        var requiresGrad = requiresGradArg is true;
        var elements = TensorShapes.ElementCount(shape) ?? throw Error($"size {TensorShapes.Format(shape)} overflows");
        var elementSize = dtype.ByteSize();
        if (TensorShapes.ByteLength(elements, dtype) is null) throw Error($"size {TensorShapes.Format(shape)} overflows");
        if (elements > 0)
        {
            BigInteger last = offset;
            for (var i = 0; i < shape.Length; i++) last += (BigInteger)(shape[i] - 1) * stride[i];
            if ((last + 1) * elementSize > storage.ByteLength)
                throw Error($"a {dtype.TorchName()} view with offset {offset}, size {TensorShapes.Format(shape)} and stride {TensorShapes.Format(stride)} runs past its storage '{storage.Key}' of {storage.ByteLength} bytes");
        }
        return new TorchTensorRef(storage, dtype, offset, shape, stride, requiresGrad);
    }

    private long[] Longs(object? value, string what)
    {
        IReadOnlyList<object?> items = value switch
        {
            PyTuple t => t.Items,
            PyList l => l,
            _ => throw Error($"tensor {what} is not a tuple"),
        };
        if (items.Count > 64) throw Error($"tensor {what} has {items.Count} dimensions");
        var result = new long[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            result[i] = items[i] is long l && l >= 0 ? l : throw Error($"tensor {what} holds {PyValues.Repr(items[i])}, not a non-negative integer");
        }
        return result;
    }

    public object? Build(object? target, object? state)
    {
        switch (target)
        {
            case PyDict dict:
                {
                    var attributes = state switch
                    {
                        PyDict d => d,
                        PyTuple { Items.Count: 2 } t => t.Items[0] as PyDict ?? t.Items[1] as PyDict,
                        null => null,
                        _ => throw Error("BUILD state of a dict is not a dict"),
                    };
                    if (attributes is not null)
                    {
                        dict.Attributes ??= new PyDict();
                        foreach (var (k, v) in attributes.Items) dict.Attributes.Set(k, v);
                    }
                    return dict;
                }
            case TorchTensorRef tensor:
                return tensor;
            default:
                throw Error($"BUILD on {target?.GetType().Name ?? "None"} is not allowed");
        }
    }

    public object? PersistentLoad(object? pid)
    {
        if (pid is not PyTuple { Items.Count: >= 5 } t || t.Items[0] is not "storage")
            throw Error($"unsupported persistent id {PyValues.Repr(pid)}");
        if (t.Items[1] is not PyGlobal type) throw Error("persistent id without a storage type");
        TensorDType dtype;
        if (type.Name == "UntypedStorage") dtype = TensorDType.U8;
        else if (type.Module != "torch" || !TensorDTypes.TryParseLegacyStorage(type.Name, out dtype)) throw Error($"{type.FullName} is not a storage type");
        var key = t.Items[2] switch
        {
            string s => s,
            long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => throw Error("storage key is not a string"),
        };
        var location = t.Items[3] as string ?? "cpu";
        if (t.Items[4] is not long numel || numel < 0) throw Error("storage size is not a non-negative integer");
        if (!_storages.TryGetValue(key, out var storage))
        {
            storage = _resolver(key, dtype, numel, location);
            _storages[key] = storage;
        }
        if (storage.DType.ByteSize() != dtype.ByteSize() && storage.DType != dtype)
            throw Error($"storage '{key}' is used as both {storage.DType.TorchName()} and {dtype.TorchName()}");
        // Legacy files may reference a view of a storage: (view_key, offset, view_size).
        if (t.Items.Count >= 6 && t.Items[5] is PyTuple { Items.Count: 3 } view)
        {
            if (view.Items[1] is not long viewOffset || view.Items[2] is not long viewSize || viewOffset < 0 || viewSize < 0)
                throw Error("bad storage view metadata");
            var elementSize = dtype.ByteSize();
            if ((BigInteger)(viewOffset + (BigInteger)viewSize) * elementSize > storage.ByteLength) throw Error("storage view runs past its storage");
            return new TorchStorage(key + "@" + viewOffset, dtype, viewSize * elementSize, location)
            {
                Root = storage,
                ViewOffsetBytes = viewOffset * elementSize,
            };
        }
        return storage;
    }
}
