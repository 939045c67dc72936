using System.Globalization;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Adapters.Core.Serialization;

/// <summary>
/// A sharded safetensors checkpoint's <c>model.safetensors.index.json</c>: <c>{"metadata": {"total_size": N},
/// "weight_map": {tensor: shard file}}</c>.
/// </summary>
public sealed class SafeTensorsIndex
{
    /// <summary>Creates an index.</summary>
    public SafeTensorsIndex(IReadOnlyList<KeyValuePair<string, string>> weightMap, long? totalSize, IReadOnlyList<KeyValuePair<string, JsonElement>>? extraMetadata = null)
    {
        WeightMap = weightMap;
        TotalSize = totalSize;
        ExtraMetadata = extraMetadata ?? [];
    }

    /// <summary>Tensor name → shard file name (relative to the index), in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> WeightMap { get; }

    /// <summary><c>metadata.total_size</c>, when present.</summary>
    public long? TotalSize { get; }

    /// <summary>Other <c>metadata</c> entries, kept as JSON.</summary>
    public IReadOnlyList<KeyValuePair<string, JsonElement>> ExtraMetadata { get; }

    /// <summary>The shard files, in first-use order.</summary>
    public IReadOnlyList<string> ShardFiles => WeightMap.Select(kv => kv.Value).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Reads and checks an index file.</summary>
    /// <exception cref="TensorFormatException">Not a valid index.</exception>
    public static SafeTensorsIndex Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TensorFormatException(path, $"cannot read: {ex.Message}", ex);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses index JSON.</summary>
    public static SafeTensorsIndex Parse(byte[] json, string? path = null)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new TensorFormatException(path, "shard index is not a JSON object");
            if (!root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new TensorFormatException(path, "shard index has no `weight_map` object");
            var weights = new List<KeyValuePair<string, string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String) throw new TensorFormatException(path, $"`weight_map` entry `{p.Name}` is not a file name");
                var file = p.Value.GetString()!;
                if (file.Length == 0 || Path.IsPathRooted(file) || file.Split('/', '\\').Contains(".."))
                    throw new TensorFormatException(path, $"`weight_map` entry `{p.Name}` names an unsafe shard path '{file}'");
                if (!seen.Add(p.Name)) throw new TensorFormatException(path, $"`weight_map` lists `{p.Name}` twice");
                weights.Add(new(p.Name, file));
            }
            long? total = null;
            var extra = new List<KeyValuePair<string, JsonElement>>();
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in meta.EnumerateObject())
                {
                    if (p.Name == "total_size" && p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out var t)) total = t;
                    else extra.Add(new(p.Name, p.Value.Clone()));
                }
            }
            return new SafeTensorsIndex(weights, total, extra);
        }
        catch (JsonException ex)
        {
            throw new TensorFormatException(path, $"invalid JSON in shard index: {ex.Message.ReplaceLineEndings(" ")}", ex);
        }
    }

    /// <summary>The JSON text, formatted like Python's <c>json.dumps(index, indent=2)</c>.</summary>
    public string ToJson()
    {
        var sb = new StringBuilder();
        sb.Append("{\n  \"metadata\": {");
        var entries = new List<string>();
        if (TotalSize is long total) entries.Add("\n    \"total_size\": " + total.ToString(CultureInfo.InvariantCulture));
        foreach (var (k, v) in ExtraMetadata) entries.Add("\n    " + PyJson(k) + ": " + v.GetRawText());
        sb.AppendJoin(",", entries);
        sb.Append(entries.Count > 0 ? "\n  },\n" : "},\n");
        sb.Append("  \"weight_map\": {");
        sb.AppendJoin(",", WeightMap.Select(kv => "\n    " + PyJson(kv.Key) + ": " + PyJson(kv.Value)));
        sb.Append(WeightMap.Count > 0 ? "\n  }\n}" : "}\n}");
        return sb.ToString();
    }

    /// <summary>Writes the index (temporary file, then rename).</summary>
    public void Write(string path) => AtomicFile.Write(path, s => s.Write(Encoding.UTF8.GetBytes(ToJson())));

    /// <summary>
    /// Splits tensors into shards of at most <paramref name="maxShardBytes"/> as <c>huggingface_hub</c> does (in the
    /// given order; a tensor over the limit gets a shard of its own), writes <c>model-0000k-of-0000n.safetensors</c>
    /// and <c>model.safetensors.index.json</c> into <paramref name="directory"/>, and returns the index path. With one
    /// shard it writes <c>model.safetensors</c> alone and returns its path.
    /// </summary>
    public static string SaveSharded(string directory, IEnumerable<TensorPayload> tensors, long maxShardBytes,
        IReadOnlyList<KeyValuePair<string, string>>? metadata, string prefix = "model")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        var shards = new List<List<TensorPayload>>();
        var current = new List<TensorPayload>();
        long currentSize = 0, totalSize = 0;
        foreach (var t in tensors)
        {
            var size = t.Spec.ByteLength;
            totalSize += size;
            if (size > maxShardBytes)
            {
                shards.Add([t]);
                continue;
            }
            if (currentSize + size > maxShardBytes && current.Count > 0)
            {
                shards.Add(current);
                current = [];
                currentSize = 0;
            }
            current.Add(t);
            currentSize += size;
        }
        if (current.Count > 0) shards.Add(current);
        Directory.CreateDirectory(directory);
        if (shards.Count <= 1)
        {
            var single = Path.Combine(directory, prefix + ".safetensors");
            SafeTensorsWriter.Save(single, shards.Count == 0 ? [] : shards[0], metadata);
            return single;
        }
        var weightMap = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < shards.Count; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i + 1:D5}-of-{shards.Count:D5}.safetensors");
            SafeTensorsWriter.Save(Path.Combine(directory, name), shards[i], metadata);
            weightMap.AddRange(shards[i].Select(t => new KeyValuePair<string, string>(t.Spec.Name, name)));
        }
        weightMap.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var indexPath = Path.Combine(directory, prefix + ".safetensors.index.json");
        new SafeTensorsIndex(weightMap, totalSize).Write(indexPath);
        return indexPath;
    }

    /// <summary>A JSON string as Python's <c>json.dumps</c> writes it (ASCII only).</summary>
    internal static string PyJson(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7E) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}

/// <summary>A sharded safetensors checkpoint opened through its index; each shard is validated and memory-mapped.</summary>
public sealed class ShardedSafeTensorsFile : TensorFile
{
    private readonly Dictionary<string, SafeTensorsFile> _shards;
    private readonly Dictionary<string, SafeTensorsFile> _byTensor = new(StringComparer.Ordinal);
    private readonly List<TensorSpec> _specs = [];
    private readonly string _path;

    private ShardedSafeTensorsFile(string path, SafeTensorsIndex index, Dictionary<string, SafeTensorsFile> shards)
    {
        _path = path;
        Index = index;
        _shards = shards;
        foreach (var (name, file) in index.WeightMap)
        {
            var shard = shards[file];
            if (!shard.Contains(name)) throw new TensorFormatException(path, $"`weight_map` puts `{name}` in {file}, which does not hold it");
            _byTensor[name] = shard;
            _specs.Add(shard.GetSpec(name));
        }
    }

    /// <summary>Opens an index and every shard it names.</summary>
    public static ShardedSafeTensorsFile Open(string indexPath)
    {
        var index = SafeTensorsIndex.Read(indexPath);
        var dir = Path.GetDirectoryName(Path.GetFullPath(indexPath)) ?? ".";
        var shards = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var file in index.ShardFiles)
            {
                var shardPath = Path.Combine(dir, file);
                if (!File.Exists(shardPath)) throw new TensorFormatException(indexPath, $"shard {file} named in `weight_map` does not exist");
                shards[file] = SafeTensorsFile.Open(shardPath);
            }
            return new ShardedSafeTensorsFile(indexPath, index, shards);
        }
        catch
        {
            foreach (var s in shards.Values) s.Dispose();
            throw;
        }
    }

    /// <summary>The parsed index.</summary>
    public SafeTensorsIndex Index { get; }

    /// <summary>The open shards by file name.</summary>
    public IReadOnlyDictionary<string, SafeTensorsFile> Shards => _shards;

    /// <inheritdoc/>
    public override string? FilePath => _path;

    /// <inheritdoc/>
    public override TensorFileFormat Format => TensorFileFormat.SafetensorsSharded;

    /// <inheritdoc/>
    public override IReadOnlyList<TensorSpec> Tensors => _specs;

    /// <summary>The metadata of the first shard (shards written together share it).</summary>
    public override IReadOnlyList<KeyValuePair<string, string>>? Metadata => _shards.Values.FirstOrDefault()?.Metadata;

    /// <inheritdoc/>
    public override void ReadValues(string name, Action<ReadOnlySpan<byte>> sink) => Shard(name).ReadValues(name, sink);

    /// <inheritdoc/>
    public override Tensor LoadTensor(string name) => Shard(name).LoadTensor(name);

    private SafeTensorsFile Shard(string name) =>
        _byTensor.TryGetValue(name, out var s) ? s : throw new KeyNotFoundException($"{_path}: no tensor named '{name}'");

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        foreach (var s in _shards.Values) s.Dispose();
    }
}
