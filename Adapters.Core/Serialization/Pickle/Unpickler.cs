using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Adapters.Core.Serialization.Pickle;

/// <summary>What the pickle VM asks of its host: globals, calls, persistent ids and BUILD. It executes nothing itself.</summary>
internal interface IPickleHost
{
    /// <summary>Resolves GLOBAL/STACK_GLOBAL/INST; throws <see cref="UnsafePickleException"/> for anything not allowed.</summary>
    PyGlobal FindClass(string module, string name);

    /// <summary>REDUCE / NEWOBJ on an allowed global.</summary>
    object? Call(PyGlobal callable, IReadOnlyList<object?> args);

    /// <summary>BUILD: sets state on an object.</summary>
    object? Build(object? target, object? state);

    /// <summary>PERSID / BINPERSID.</summary>
    object? PersistentLoad(object? pid);
}

/// <summary>
/// A pickle VM for protocols 0-5 that builds plain data (numbers, strings, tuples, lists, dicts) and hands globals,
/// calls and persistent ids to an <see cref="IPickleHost"/>. It never imports or runs anything; malformed input
/// throws <see cref="TensorFormatException"/>. Every resource a file controls is bounded by <see cref="PickleLimits"/>
/// (stack, memo, objects, collection sizes, tuple nesting, key sizes), and nothing here recurses on the data.
/// </summary>
internal sealed class Unpickler
{
    private static readonly object Mark = new();

    private readonly byte[] _data;
    private readonly int _end;
    private readonly string? _path;
    private readonly IPickleHost _host;
    private readonly PickleLimits _limits;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;
    private long _objects;

    public Unpickler(byte[] data, int start, int end, string? path, IPickleHost host, PickleLimits limits)
    {
        _limits = limits;
        _data = data;
        _pos = start;
        _end = end;
        _path = path;
        _host = host;
    }

    /// <summary>Where the last <see cref="Load"/> stopped (just past STOP).</summary>
    public int Position => _pos;

    /// <summary>
    /// Values pushed by the last <see cref="Load"/>, created or referenced again (DUP, memo GET): every edge of the
    /// object graph is one, so a walk of the tree it spells out without reusing containers visits no more.
    /// </summary>
    public long References { get; private set; }

    /// <summary>The PROTO opcode's argument, or the highest protocol implied by the opcodes seen (0 or 1) when absent.</summary>
    public int Protocol { get; private set; }

    private bool _sawProto;

    private TensorFormatException Error(string problem) => new(_path, $"invalid pickle at byte {_pos}: {problem}");

    private TensorLimitException LimitError(string problem, string limit, long value) =>
        new(_path, $"pickle at byte {_pos}: {problem}", "PickleLimits." + limit, value);

    /// <summary>Runs until STOP and returns the top of the stack.</summary>
    public object? Load()
    {
        _stack.Clear();
        _marks.Clear();
        _memo.Clear();
        _objects = 0;
        References = 0;
        Protocol = 0;
        _sawProto = false;
        while (true)
        {
            if (_pos >= _end) throw Error("truncated (no STOP opcode)");
            var op = _data[_pos++];
            switch (op)
            {
                case 0x80: // PROTO
                    {
                        var p = ReadByte();
                        if (p > 5) throw Error($"unsupported pickle protocol {p}");
                        Protocol = p;
                        _sawProto = true;
                        break;
                    }
                case 0x95: // FRAME
                    ReadBytes(8);
                    break;
                case (byte)'.': // STOP
                    {
                        if (_stack.Count == 0 || _stack[^1] == Mark) throw Error("STOP with an empty stack");
                        return _stack[^1];
                    }
                case (byte)'(': // MARK
                    _marks.Add(_stack.Count);
                    PushExisting(Mark);
                    break;
                case (byte)'0': Pop(); break; // POP
                case (byte)'1': PopMark(); break; // POP_MARK
                case (byte)'2': PushExisting(Peek()); break; // DUP
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case (byte)'I': // INT
                    {
                        var line = ReadLine();
                        if (line == "00") Push(false);
                        else if (line == "01") Push(true);
                        else Push(ParseInt(line));
                        break;
                    }
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break; // BININT
                case (byte)'K': Push((long)ReadByte()); break; // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break; // BININT2
                case (byte)'L': // LONG
                    {
                        var line = ReadLine();
                        if (line.EndsWith('L')) line = line[..^1];
                        Push(ParseInt(line));
                        break;
                    }
                case 0x8a: Push(DecodeLong(ReadBytes(ReadByte()))); break; // LONG1
                case 0x8b: // LONG4
                    {
                        var n = BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4));
                        if (n < 0) throw Error("negative LONG4 length");
                        if (n > _limits.MaxIntegerBytes) throw LimitError($"a {n}-byte integer", nameof(PickleLimits.MaxIntegerBytes), _limits.MaxIntegerBytes);
                        Push(DecodeLong(ReadBytes(n)));
                        break;
                    }
                case (byte)'F': // FLOAT
                    {
                        var line = ReadLine();
                        if (!double.TryParse(line, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) throw Error($"bad FLOAT '{Clip(line)}'");
                        Push(d);
                        break;
                    }
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break; // BINFLOAT
                case (byte)'S': Push(ParseQuotedString(ReadLine())); break; // STRING
                case (byte)'T': Push(Latin1(ReadBytes(ReadLength4()))); break; // BINSTRING
                case (byte)'U': Push(Latin1(ReadBytes(ReadByte()))); break; // SHORT_BINSTRING
                case (byte)'V': Push(RawUnicodeEscape(ReadLine())); break; // UNICODE
                case (byte)'X': Push(Utf8(ReadBytes(ReadLength4()))); break; // BINUNICODE
                case 0x8c: Push(Utf8(ReadBytes(ReadByte()))); break; // SHORT_BINUNICODE
                case 0x8d: Push(Utf8(ReadBytes(ReadLength8()))); break; // BINUNICODE8
                case (byte)'B': Push(ReadBytes(ReadLength4()).ToArray()); break; // BINBYTES
                case (byte)'C': Push(ReadBytes(ReadByte()).ToArray()); break; // SHORT_BINBYTES
                case 0x8e: Push(ReadBytes(ReadLength8()).ToArray()); break; // BINBYTES8
                case 0x96: Push(ReadBytes(ReadLength8()).ToArray()); break; // BYTEARRAY8
                case 0x97: throw Error("out-of-band buffers (NEXT_BUFFER) are not supported");
                case 0x98: break; // READONLY_BUFFER: no-op on our immutable bytes
                case (byte)')': Push(new PyTuple([])); break; // EMPTY_TUPLE
                case (byte)'t': Push(Tuple(PopMark())); break; // TUPLE
                case 0x85: { var a = Pop(); Push(Tuple([a])); break; } // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(Tuple([a, b])); break; } // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(Tuple([a, b, c])); break; } // TUPLE3
                case (byte)']': Push(new PyList()); break; // EMPTY_LIST
                case (byte)'l': { var items = PopMark(); var list = new PyList(); Grow(list, items.Count); list.AddRange(items); Push(list); break; } // LIST
                case (byte)'a': { var v = Pop(); var list = AsList(Peek()); Grow(list, 1); list.Add(v); break; } // APPEND
                case (byte)'e': { var items = PopMark(); var list = AsList(Peek()); Grow(list, items.Count); list.AddRange(items); break; } // APPENDS
                case (byte)'}': Push(new PyDict()); break; // EMPTY_DICT
                case (byte)'d': // DICT
                    {
                        var items = PopMark();
                        if (items.Count % 2 != 0) throw Error("DICT with an odd number of items");
                        var dict = new PyDict();
                        Grow(dict.Count, items.Count / 2);
                        for (var i = 0; i < items.Count; i += 2) dict.Set(Key(items[i]), items[i + 1]);
                        Push(dict);
                        break;
                    }
                case (byte)'s': { var v = Pop(); var k = Pop(); var dict = AsDict(Peek()); Grow(dict.Count, 1); dict.Set(Key(k), v); break; } // SETITEM
                case (byte)'u': // SETITEMS
                    {
                        var items = PopMark();
                        if (items.Count % 2 != 0) throw Error("SETITEMS with an odd number of items");
                        var dict = AsDict(Peek());
                        Grow(dict.Count, items.Count / 2);
                        for (var i = 0; i < items.Count; i += 2) dict.Set(Key(items[i]), items[i + 1]);
                        break;
                    }
                case 0x8f: Push(new PySet()); break; // EMPTY_SET
                case 0x90: { var items = PopMark(); if (Peek() is not PySet set) throw Error("ADDITEMS on a non-set"); Grow(set, items.Count); set.AddRange(items); break; } // ADDITEMS
                case 0x91: { var items = PopMark(); var set = new PySet { Frozen = true }; Grow(set, items.Count); set.AddRange(items); Push(set); break; } // FROZENSET
                case (byte)'c': // GLOBAL
                    {
                        var module = ReadLine();
                        var name = ReadLine();
                        Push(_host.FindClass(module, name));
                        break;
                    }
                case 0x93: // STACK_GLOBAL
                    {
                        var name = Pop();
                        var module = Pop();
                        if (module is not string m || name is not string n) throw Error("STACK_GLOBAL needs two strings");
                        Push(_host.FindClass(m, n));
                        break;
                    }
                case (byte)'i': // INST
                    {
                        var module = ReadLine();
                        var name = ReadLine();
                        var cls = _host.FindClass(module, name);
                        Push(_host.Call(cls, PopMark()));
                        break;
                    }
                case (byte)'o': // OBJ
                    {
                        var items = PopMark();
                        if (items.Count == 0 || items[0] is not PyGlobal cls) throw Error("OBJ without a class");
                        Push(_host.Call(cls, items.Skip(1).ToList()));
                        break;
                    }
                case (byte)'R': // REDUCE
                    {
                        var args = Pop();
                        var callable = Pop();
                        if (callable is not PyGlobal g) throw Error($"REDUCE on {Describe(callable)}, not a global");
                        if (args is not PyTuple t) throw Error("REDUCE arguments are not a tuple");
                        Push(_host.Call(g, t.Items));
                        break;
                    }
                case 0x81: // NEWOBJ
                    {
                        var args = Pop();
                        var cls = Pop();
                        if (cls is not PyGlobal g || args is not PyTuple t) throw Error("NEWOBJ needs a class and a tuple");
                        Push(_host.Call(g, t.Items));
                        break;
                    }
                case 0x92: // NEWOBJ_EX
                    {
                        var kwargs = Pop();
                        var args = Pop();
                        var cls = Pop();
                        if (cls is not PyGlobal g || args is not PyTuple t) throw Error("NEWOBJ_EX needs a class and a tuple");
                        if (kwargs is PyDict { Count: > 0 }) throw Error($"NEWOBJ_EX with keyword arguments for {g.FullName}");
                        Push(_host.Call(g, t.Items));
                        break;
                    }
                case (byte)'b': // BUILD
                    {
                        var state = Pop();
                        var target = Pop();
                        Push(_host.Build(target, state));
                        break;
                    }
                case (byte)'P': Push(_host.PersistentLoad(ReadLine())); break; // PERSID
                case (byte)'Q': Push(_host.PersistentLoad(Pop())); break; // BINPERSID
                case 0x82: case 0x83: case 0x84: // EXT1, EXT2, EXT4
                    throw new UnsafePickleException(_path, "copyreg extension registry (EXT opcodes)");
                case (byte)'g': PushExisting(MemoGet(ParseMemoIndex(ReadLine()))); break; // GET
                case (byte)'h': PushExisting(MemoGet(ReadByte())); break; // BINGET
                case (byte)'j': PushExisting(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break; // LONG_BINGET
                case (byte)'p': MemoPut(ParseMemoIndex(ReadLine())); break; // PUT
                case (byte)'q': MemoPut(ReadByte()); break; // BINPUT
                case (byte)'r': MemoPut(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))); break; // LONG_BINPUT
                case 0x94: MemoPut(_memo.Count); break; // MEMOIZE
                default:
                    throw Error($"unknown opcode 0x{op:x2}");
            }
            if (!_sawProto && op is (byte)'}' or (byte)']' or (byte)')' or (byte)'G' or (byte)'J' or (byte)'K' or (byte)'M' or (byte)'T' or (byte)'U' or (byte)'X' or (byte)'q' or (byte)'h' or (byte)'Q' or (byte)'u' or (byte)'e' or (byte)'o')
                Protocol = Math.Max(Protocol, 1);
        }
    }

    private static string Clip(string s) => PyValues.Printable(s, 40);

    private static string Describe(object? o) => o switch
    {
        null => "None",
        _ => o.GetType().Name,
    };

    /// <summary>Pushes a value the pickle just created, counting it against <see cref="PickleLimits.MaxObjects"/>.</summary>
    private void Push(object? value)
    {
        if (++_objects > _limits.MaxObjects) throw LimitError($"more than {_limits.MaxObjects} values", nameof(PickleLimits.MaxObjects), _limits.MaxObjects);
        PushExisting(value);
    }

    /// <summary>Pushes a reference to a value that already exists (DUP, memo GET, MARK).</summary>
    private void PushExisting(object? value)
    {
        if (_stack.Count >= _limits.MaxStackDepth) throw LimitError($"a stack of more than {_limits.MaxStackDepth} values", nameof(PickleLimits.MaxStackDepth), _limits.MaxStackDepth);
        if (value != Mark) References++;
        _stack.Add(value);
    }

    private PyTuple Tuple(List<object?> items)
    {
        Grow(0, items.Count);
        var tuple = new PyTuple(items);
        if (tuple.Depth > _limits.MaxNestingDepth)
            throw LimitError($"tuples nested more than {_limits.MaxNestingDepth} deep", nameof(PickleLimits.MaxNestingDepth), _limits.MaxNestingDepth);
        return tuple;
    }

    private void Grow(ICollection<object?> collection, int added) => Grow(collection.Count, added);

    private void Grow(int count, int added)
    {
        if ((long)count + added > _limits.MaxCollectionItems)
            throw LimitError($"a collection of more than {_limits.MaxCollectionItems} items", nameof(PickleLimits.MaxCollectionItems), _limits.MaxCollectionItems);
    }

    private object? Pop()
    {
        if (_stack.Count == 0 || _stack[^1] == Mark) throw Error("stack underflow");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Peek()
    {
        if (_stack.Count == 0) throw Error("stack underflow");
        var v = _stack[^1];
        if (v == Mark) throw Error("unexpected MARK");
        return v;
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Error("no MARK on the stack");
        var at = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(at + 1, _stack.Count - at - 1);
        _stack.RemoveRange(at, _stack.Count - at);
        return items;
    }

    private PyList AsList(object? o) => o as PyList ?? throw Error($"APPEND to {Describe(o)}, not a list");

    private PyDict AsDict(object? o) => o as PyDict ?? throw Error($"SETITEM on {Describe(o)}, not a dict");

    private object? Key(object? k)
    {
        if (k == Mark) throw Error("MARK used as a key");
        if (k is PyTuple { ExpandedValues: var n } && n > _limits.MaxKeyValues)
            throw LimitError($"a tuple key or persistent id expanding to more than {_limits.MaxKeyValues} values", nameof(PickleLimits.MaxKeyValues), _limits.MaxKeyValues);
        if (PyValues.Unhashable(k, _limits.MaxKeyValues) is string problem) throw Error(problem);
        return k;
    }

    private object? MemoGet(long index) =>
        _memo.TryGetValue(index, out var v) ? v : throw Error($"memo key {index} was never stored");

    private void MemoPut(long index)
    {
        var value = Peek();
        if (_memo.Count >= _limits.MaxMemoEntries && !_memo.ContainsKey(index))
            throw LimitError($"a memo of more than {_limits.MaxMemoEntries} entries", nameof(PickleLimits.MaxMemoEntries), _limits.MaxMemoEntries);
        _memo[index] = value;
    }

    private long ParseMemoIndex(string line) =>
        long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : throw Error($"bad memo index '{Clip(line)}'");

    private byte ReadByte()
    {
        if (_pos >= _end) throw Error("truncated");
        return _data[_pos++];
    }

    private ReadOnlySpan<byte> ReadBytes(long n)
    {
        if (n < 0 || n > _end - _pos) throw Error($"a {n}-byte argument runs past the end ({_end - _pos} bytes left)");
        var span = _data.AsSpan(_pos, (int)n);
        _pos += (int)n;
        return span;
    }

    private long ReadLength4() => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4));

    private long ReadLength8()
    {
        var n = BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));
        return n > int.MaxValue ? throw Error($"a {n}-byte argument runs past the end") : (long)n;
    }

    private string ReadLine()
    {
        var rest = _data.AsSpan(_pos, _end - _pos);
        var nl = rest.IndexOf((byte)'\n');
        if (nl < 0) throw Error("truncated text argument (no newline)");
        if (nl > 1 << 20) throw Error("text argument too long");
        var s = Encoding.Latin1.GetString(rest[..nl]);
        _pos += nl + 1;
        return s;
    }

    private object ParseInt(string line)
    {
        line = line.Trim();
        if (line.Length > 10_000 || !BigInteger.TryParse(line, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            throw Error($"bad integer '{Clip(line)}'");
        return Normalize(n);
    }

    private static object Normalize(BigInteger n) => n >= long.MinValue && n <= long.MaxValue ? (long)n : n;

    private static object DecodeLong(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 0 ? 0L : Normalize(new BigInteger(bytes, isUnsigned: false, isBigEndian: false));

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    private string Utf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            // Python pickles lone surrogates with surrogatepass; keep going with replacement characters.
            return Encoding.UTF8.GetString(bytes);
        }
    }

    private string ParseQuotedString(string line)
    {
        if (line.Length < 2 || line[0] != line[^1] || (line[0] != '\'' && line[0] != '"')) throw Error("STRING argument is not quoted");
        var body = line[1..^1];
        var sb = new StringBuilder(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c != '\\' || i + 1 >= body.Length) { sb.Append(c); continue; }
            var e = body[++i];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'x' when i + 2 < body.Length + 0 && int.TryParse(body.AsSpan(i + 1, Math.Min(2, body.Length - i - 1)), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var x):
                    sb.Append((char)x);
                    i += 2;
                    break;
                default: sb.Append('\\').Append(e); break;
            }
        }
        return sb.ToString();
    }

    private static string RawUnicodeEscape(string line)
    {
        var sb = new StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\' && i + 5 < line.Length + 0 && line[i + 1] == 'u'
                && int.TryParse(line.AsSpan(i + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var u))
            {
                sb.Append((char)u);
                i += 5;
            }
            else if (line[i] == '\\' && i + 9 < line.Length + 0 && line[i + 1] == 'U'
                && int.TryParse(line.AsSpan(i + 2, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var cp) && cp is >= 0 and <= 0x10FFFF)
            {
                sb.Append(char.ConvertFromUtf32(cp is >= 0xD800 and <= 0xDFFF ? 0xFFFD : cp));
                i += 9;
            }
            else
            {
                sb.Append(line[i]);
            }
        }
        return sb.ToString();
    }
}
