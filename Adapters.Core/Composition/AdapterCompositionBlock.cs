using System.Text.Json;
using System.Text.Json.Nodes;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Composition;

/// <summary>
/// A composition of adapters, Python's <c>AdapterCompositionBlock</c>: an ordered list of children, each an adapter
/// name or a nested block. Blocks are immutable and compare by structure. Validation of nestings and depth happens
/// when a setup is activated (<see cref="CompositionRules.Validate"/>), as in Python.
/// </summary>
public abstract class AdapterCompositionBlock : IEquatable<AdapterCompositionBlock>
{
    private readonly CompositionChild[] _children;

    /// <summary>Creates the block over <paramref name="children"/>.</summary>
    /// <exception cref="AdapterCompositionException">There are no children.</exception>
    protected AdapterCompositionBlock(IEnumerable<CompositionChild> children)
    {
        ArgumentNullException.ThrowIfNull(children);
        _children = children.ToArray();
        if (_children.Length == 0)
            throw new AdapterCompositionException($"A {GetType().Name} block needs at least one child.");
        foreach (var child in _children)
            if (child.Adapter is null && child.Block is null)
                throw new AdapterCompositionException($"A {GetType().Name} block has an empty child; children are adapter names or blocks.");
    }

    /// <summary>The children in order.</summary>
    public IReadOnlyList<CompositionChild> Children => _children;

    /// <summary>The Python class name, used in errors, string forms and <c>adapter_setup.json</c>.</summary>
    public string TypeName => GetType().Name;

    /// <summary>
    /// How many copies of the batch this setup needs (Python's <c>parallel_channels</c>): the largest value over the
    /// children, where an adapter counts 1 and a <see cref="Parallel"/> block counts its number of children.
    /// </summary>
    public virtual int ParallelChannels => _children.Max(c => c.Block?.ParallelChannels ?? 1);

    /// <summary>The first adapter name, descending into first children (Python's <c>first()</c>).</summary>
    public string First() => _children[0].First();

    /// <summary>The last adapter name, descending into last children (Python's <c>last()</c>).</summary>
    public string Last() => _children[^1].Last();

    /// <summary>
    /// Every adapter name in the setup, each once, in depth-first order of first appearance. Python returns an unordered
    /// set; the order here is what makes <see cref="Methods.ActiveAdapterSetup.Names"/> deterministic.
    /// </summary>
    public IReadOnlyList<string> Flatten()
    {
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Collect(this, result, seen);
        return result;
    }

    /// <summary>Whether <paramref name="name"/> occurs anywhere in the setup.</summary>
    public bool Contains(string name) => Flatten().Contains(name, StringComparer.Ordinal);

    /// <summary>
    /// The block as Python's <c>to_dict()</c> writes it into <c>adapter_setup.json</c>:
    /// <c>{"type": "Stack", "children": [{"type": "single", "children": ["a"]}, ...], "kwargs": {...}}</c>.
    /// </summary>
    public JsonObject ToJson()
    {
        var children = new JsonArray();
        foreach (var child in _children)
        {
            children.Add(child.Block is { } block
                ? block.ToJson()
                : new JsonObject { ["type"] = "single", ["children"] = new JsonArray(child.Adapter) });
        }
        var result = new JsonObject { ["type"] = TypeName, ["children"] = children };
        if (SaveArguments() is { } kwargs) result["kwargs"] = kwargs;
        return result;
    }

    /// <summary>
    /// Reads a block written by <see cref="ToJson"/> or Python's <c>to_dict()</c> (its <c>from_dict</c>): the type names
    /// a block class, a <c>"single"</c> child holds one adapter name, and <c>kwargs</c> carry <c>splits</c>,
    /// <c>batch_sizes</c> or <c>weights</c> (Average weights are normalised again, as Python's constructor does).
    /// </summary>
    /// <param name="node">The block object.</param>
    /// <param name="source">Names the file or field in error messages.</param>
    /// <exception cref="AdapterCompositionException">The object is not a block of a known type with valid children and arguments.</exception>
    public static AdapterCompositionBlock FromJson(JsonNode? node, string source = "adapter setup")
    {
        if (node is not JsonObject block)
            throw new AdapterCompositionException($"{source}: expected a composition block object {{\"type\": ..., \"children\": [...]}}, got {Describe(node)}.");
        var type = block["type"] is JsonValue t && t.TryGetValue<string>(out var name) ? name
            : throw new AdapterCompositionException($"{source}: a block needs a string \"type\", got {Describe(block["type"])}.");
        if (block["children"] is not JsonArray items || items.Count == 0)
            throw new AdapterCompositionException($"{source}: {type} needs a non-empty \"children\" list.");
        var children = new List<CompositionChild>();
        foreach (var item in items)
        {
            if (item is JsonObject { } child && child["type"] is JsonValue ct && ct.TryGetValue<string>(out var childType) && childType == "single")
            {
                if (child["children"] is not JsonArray { Count: 1 } single || single[0] is not JsonValue v || !v.TryGetValue<string>(out var adapter) || adapter.Length == 0)
                    throw new AdapterCompositionException($"{source}: a \"single\" child of {type} must hold exactly one adapter name, got {Describe(child["children"])}.");
                children.Add(adapter);
            }
            else
            {
                children.Add(FromJson(item, source));
            }
        }
        var kwargs = block["kwargs"] as JsonObject ?? [];
        string[] known = type switch { nameof(Split) => ["splits"], nameof(BatchSplit) => ["batch_sizes"], nameof(Average) => ["weights", "normalize_weights"], _ => [] };
        foreach (var (key, _) in kwargs)
            if (!known.Contains(key))
                throw new AdapterCompositionException($"{source}: {type} has no argument \"{key}\"{(known.Length > 0 ? $"; expected {string.Join(" or ", known)}" : "")}.");
        var array = children.ToArray();
        return type switch
        {
            nameof(Stack) => new Stack(array),
            nameof(Fuse) => new Fuse(array),
            nameof(Parallel) => new Parallel(array),
            nameof(Split) => new Split(Sizes(kwargs["splits"], array.Length, source, "splits"), array),
            nameof(BatchSplit) => new BatchSplit(Sizes(kwargs["batch_sizes"], array.Length, source, "batch_sizes"), array),
            nameof(Average) => new Average(Weights(kwargs["weights"], source),
                kwargs["normalize_weights"] is not JsonValue n || n.GetValueKind() != System.Text.Json.JsonValueKind.False, array),
            nameof(MultiTask) => new MultiTask(array),
            _ => throw new AdapterCompositionException($"{source}: unknown block type \"{type}\"; expected Stack, Fuse, Split, BatchSplit, MultiTask, Parallel or Average."),
        };
    }

    private static int[] Sizes(JsonNode? node, int children, string source, string key)
    {
        static int? AsInt(JsonNode? n) =>
            n is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && !PythonJson.IsFloat(v)
                && v.TryGetValue<JsonElement>(out var e) && e.TryGetInt32(out var i) ? i
            : n is JsonValue w && w.TryGetValue<int>(out var j) ? j
            : n is JsonValue x && x.TryGetValue<long>(out var l) && l is >= int.MinValue and <= int.MaxValue ? (int)l : null;
        if (AsInt(node) is { } single) return Enumerable.Repeat(single, children).ToArray();
        if (node is JsonArray array && array.Select(AsInt).ToArray() is var values && values.All(v => v is not null))
            return values.Select(v => v!.Value).ToArray();
        throw new AdapterCompositionException($"{source}: \"{key}\" must be an integer or a list of integers, got {Describe(node)}.");
    }

    private static double[]? Weights(JsonNode? node, string source)
    {
        if (node is null) return null;
        if (node is JsonArray array && array.All(w => w is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number))
            return array.Select(w => PythonJson.ToDouble((JsonValue)w!)).ToArray();
        throw new AdapterCompositionException($"{source}: \"weights\" must be a list of numbers or null, got {Describe(node)}.");
    }

    private static string Describe(JsonNode? node) => node?.ToJsonString() ?? "null";

    /// <summary>The block arguments Python saves as <c>kwargs</c>, or null when there are none.</summary>
    protected virtual JsonObject? SaveArguments() => null;

    /// <summary>The arguments written after the children in <see cref="ToString"/>, e.g. <c>splits=[2, 3]</c>.</summary>
    protected virtual IEnumerable<string> DisplayArguments() => [];

    /// <summary>
    /// The setup text that <see cref="CompositionParser.Parse"/> reads back, e.g. <c>Stack(a, Fuse(b, c))</c> or
    /// <c>Split(a, b, splits=[2, 4])</c>.
    /// </summary>
    public override string ToString() =>
        $"{TypeName}({string.Join(", ", _children.Select(c => c.ToString()).Concat(DisplayArguments()))})";

    /// <inheritdoc />
    public virtual bool Equals(AdapterCompositionBlock? other) =>
        other is not null && other.GetType() == GetType() && _children.SequenceEqual(other._children, ChildComparer.Instance)
        && ArgumentsEqual(other);

    /// <summary>Whether the block-specific arguments (splits, weights, name) equal <paramref name="other"/>'s.</summary>
    protected virtual bool ArgumentsEqual(AdapterCompositionBlock other) => true;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is AdapterCompositionBlock block && Equals(block);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(TypeName, _children.Length, First());

    private static void Collect(AdapterCompositionBlock block, List<string> result, HashSet<string> seen)
    {
        foreach (var child in block._children)
        {
            if (child.Block is { } nested) Collect(nested, result, seen);
            else if (seen.Add(child.Adapter!)) result.Add(child.Adapter!);
        }
    }

    private sealed class ChildComparer : IEqualityComparer<CompositionChild>
    {
        public static readonly ChildComparer Instance = new();

        public bool Equals(CompositionChild x, CompositionChild y) =>
            x.Adapter is not null ? x.Adapter == y.Adapter : y.Block is not null && x.Block!.Equals(y.Block);

        public int GetHashCode(CompositionChild obj) => obj.Adapter?.GetHashCode(StringComparison.Ordinal) ?? obj.Block!.GetHashCode();
    }
}
