using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Adapters.Core.Quantization;

/// <summary>
/// The state-dict form bitsandbytes gives a 4-bit weight <c>W</c> (<c>QuantState.as_dict(packed=True)</c>):
/// <c>W</c> itself (the packed uint8 bytes) plus <c>W.absmax</c>, <c>W.quant_map</c>, with double quantization
/// <c>W.nested_absmax</c> and <c>W.nested_quant_map</c>, and <c>W.quant_state.bitsandbytes__nf4</c> (or
/// <c>__fp4</c>): the UTF-8 bytes of <c>json.dumps</c> of the scalar fields, in bitsandbytes' order.
/// </summary>
public static class BitsAndBytesFormat
{
    /// <summary>The prefix of the packed-JSON key after the weight name's dot.</summary>
    public const string QuantStateKeyPrefix = "quant_state.bitsandbytes__";

    // Parser limits: the JSON is a handful of scalars; shapes are weight shapes.
    private const int MaxJsonBytes = 4096;
    private const int MaxDims = 8;

    private static readonly string[] s_tensorSuffixes = ["absmax", "quant_map", "nested_absmax", "nested_quant_map"];

    /// <summary>
    /// Whether <paramref name="key"/> is one of the state keys bitsandbytes writes beside a 4-bit weight
    /// (<c>….weight.absmax</c>, <c>….weight.quant_state.bitsandbytes__nf4</c>, …).
    /// </summary>
    public static bool IsStateKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return WeightKeyOf(key) is not null;
    }

    /// <summary>The weight key a state key belongs to (<c>a.weight</c> for <c>a.weight.absmax</c>), or null.</summary>
    public static string? WeightKeyOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (var type in Enum.GetValues<FourBitType>())
        {
            var suffix = "." + QuantStateKeyPrefix + type.Name();
            if (key.EndsWith(suffix, StringComparison.Ordinal)) return key[..^suffix.Length];
        }
        foreach (var name in s_tensorSuffixes)
        {
            var suffix = "." + name;
            if (key.EndsWith(suffix, StringComparison.Ordinal) && key.Length > suffix.Length) return key[..^suffix.Length];
        }
        return null;
    }

    /// <summary>The state tensors for weight key <paramref name="weightKey"/>, in bitsandbytes' order (CPU copies where needed).</summary>
    public static IEnumerable<KeyValuePair<string, Tensor>> StateTensors(string weightKey, FourBitQuantState state)
    {
        ArgumentNullException.ThrowIfNull(weightKey);
        ArgumentNullException.ThrowIfNull(state);
        yield return new($"{weightKey}.absmax", state.Absmax);
        yield return new($"{weightKey}.quant_map", state.QuantMap);
        if (state.Nested is { } nested)
        {
            yield return new($"{weightKey}.nested_absmax", nested.Absmax);
            yield return new($"{weightKey}.nested_quant_map", nested.QuantMap);
        }
        var json = Encoding.UTF8.GetBytes(PackedJson(state));
        yield return new($"{weightKey}.{QuantStateKeyPrefix}{state.Type.Name()}", tensor(json, ScalarType.Byte));
    }

    /// <summary>
    /// The text bitsandbytes packs: <c>json.dumps</c> of quant_type, blocksize, dtype, shape and, when nested,
    /// nested_blocksize, nested_dtype and nested_offset (Python's float repr of the float32 offset).
    /// </summary>
    public static string PackedJson(FourBitQuantState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var text = new StringBuilder();
        text.Append("{\"quant_type\": \"").Append(state.Type.Name()).Append("\", \"blocksize\": ")
            .Append(state.Blocksize.ToString(CultureInfo.InvariantCulture))
            .Append(", \"dtype\": \"").Append(DtypeName(state.Dtype)).Append("\", \"shape\": [")
            .Append(string.Join(", ", state.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))).Append(']');
        if (state.Nested is { } nested)
        {
            text.Append(", \"nested_blocksize\": ").Append(nested.Blocksize.ToString(CultureInfo.InvariantCulture))
                .Append(", \"nested_dtype\": \"float32\", \"nested_offset\": ").Append(PythonJson.FormatFloat(nested.Offset));
        }
        return text.Append('}').ToString();
    }

    /// <summary>
    /// Reads the state of weight <paramref name="weightKey"/> through <paramref name="lookup"/> (a key → tensor
    /// function returning null when absent), checking every size against the packed JSON.
    /// </summary>
    /// <param name="weightKey">The weight's key, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
    /// <param name="packedCount">Bytes of the packed weight, checked against the shape.</param>
    /// <param name="lookup">Reads a state tensor by full key; the returned tensors become owned by the state.</param>
    /// <param name="source">The file, for messages.</param>
    /// <param name="device">Where the state tensors go.</param>
    /// <exception cref="QuantizationException">A key is missing or a value is malformed; the message names it.</exception>
    public static FourBitQuantState ReadState(string weightKey, long packedCount, Func<string, Tensor?> lookup, string source, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(weightKey);
        ArgumentNullException.ThrowIfNull(lookup);
        device ??= CPU;
        var owned = new List<Tensor>();
        try
        {
            Tensor Required(string suffix, ScalarType dtype, long? count)
            {
                var key = $"{weightKey}.{suffix}";
                var value = lookup(key) ?? throw new QuantizationException($"{source}: 4-bit weight \"{weightKey}\" has no \"{key}\".");
                owned.Add(value);
                if (value.dtype != dtype)
                    throw new QuantizationException($"{source}: \"{key}\" is {value.dtype}; bitsandbytes stores it as {dtype}.");
                if (count is { } expected && value.numel() != expected)
                    throw new QuantizationException($"{source}: \"{key}\" has {value.numel()} values; expected {expected}.");
                return value;
            }

            string? jsonKey = null;
            Tensor? jsonTensor = null;
            foreach (var type in Enum.GetValues<FourBitType>())
            {
                var candidate = $"{weightKey}.{QuantStateKeyPrefix}{type.Name()}";
                if (lookup(candidate) is not { } found) continue;
                owned.Add(found);
                (jsonKey, jsonTensor) = (candidate, found);
                break;
            }
            if (jsonKey is null || jsonTensor is null)
                throw new QuantizationException($"{source}: 4-bit weight \"{weightKey}\" has no \"{weightKey}.{QuantStateKeyPrefix}nf4\" (or __fp4) entry.");
            var fields = ParseJson(jsonKey, jsonTensor, source);
            var keyType = FourBitTypes.Parse(jsonKey[(jsonKey.LastIndexOf("__", StringComparison.Ordinal) + 2)..])!.Value;
            if (fields.Type != keyType)
                throw new QuantizationException($"{source}: \"{jsonKey}\" says quant_type \"{fields.Type.Name()}\" but its key says \"{keyType.Name()}\".");
            var count = fields.Shape.Aggregate(1L, (a, b) => a * b);
            if (packedCount != (count + 1) / 2)
                throw new QuantizationException($"{source}: \"{weightKey}\" holds {packedCount} bytes; shape [{string.Join(", ", fields.Shape)}] packs into {(count + 1) / 2}.");
            var blocks = (count + fields.Blocksize - 1) / fields.Blocksize;
            var quantMap = Required("quant_map", ScalarType.Float32, 16);
            NestedAbsmax? nested = null;
            Tensor absmax;
            if (fields.NestedBlocksize is { } nestedBlocksize)
            {
                absmax = Required("absmax", ScalarType.Byte, blocks);
                var nestedAbsmax = Required("nested_absmax", ScalarType.Float32, (blocks + nestedBlocksize - 1) / nestedBlocksize);
                var nestedMap = Required("nested_quant_map", ScalarType.Float32, 256);
                nested = new NestedAbsmax(nestedAbsmax.to(device).DetachFromDisposeScope(), nestedMap.to(device).DetachFromDisposeScope(), fields.NestedOffset, nestedBlocksize);
            }
            else
            {
                absmax = Required("absmax", ScalarType.Float32, blocks);
            }
            return new FourBitQuantState(fields.Type, fields.Blocksize, fields.Dtype, fields.Shape,
                absmax.reshape(-1).to(device).DetachFromDisposeScope(), quantMap.reshape(-1).to(device).DetachFromDisposeScope(), nested);
        }
        finally
        {
            foreach (var tensor in owned) tensor.Dispose();
        }
    }

    private sealed record Fields(FourBitType Type, int Blocksize, ScalarType Dtype, long[] Shape, int? NestedBlocksize, float NestedOffset);

    private static Fields ParseJson(string key, Tensor packed, string source)
    {
        if (packed.dtype != ScalarType.Byte || packed.numel() > MaxJsonBytes)
            throw new QuantizationException($"{source}: \"{key}\" must be at most {MaxJsonBytes} uint8 bytes of JSON; it is {packed.numel()} values of {packed.dtype}.");
        JsonObject json;
        try
        {
            json = JsonNode.Parse(packed.cpu().data<byte>().ToArray()) as JsonObject
                ?? throw new QuantizationException($"{source}: \"{key}\" is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new QuantizationException($"{source}: \"{key}\" is not valid JSON: {e.Message}", e);
        }
        string Str(string field) => json[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s
            : throw new QuantizationException($"{source}: \"{key}\" needs a string \"{field}\".");
        int Int(string field) => json[field] is JsonValue v && v.TryGetValue<int>(out var i) ? i
            : throw new QuantizationException($"{source}: \"{key}\" needs an integer \"{field}\".");

        var type = FourBitTypes.Parse(Str("quant_type")) ?? throw new QuantizationException($"{source}: \"{key}\" has quant_type \"{Str("quant_type")}\"; expected nf4 or fp4.");
        var blocksize = Int("blocksize");
        if (!FourBitOptions.ValidBlocksizes.Contains(blocksize))
            throw new QuantizationException($"{source}: \"{key}\" has blocksize {blocksize}; expected one of {string.Join(", ", FourBitOptions.ValidBlocksizes)}.");
        var dtype = FloatDtype(Str("dtype")) ?? throw new QuantizationException($"{source}: \"{key}\" has dtype \"{Str("dtype")}\"; expected float32, bfloat16 or float16.");
        if (json["shape"] is not JsonArray dims || dims.Count is 0 or > MaxDims)
            throw new QuantizationException($"{source}: \"{key}\" needs \"shape\" as a list of 1 to {MaxDims} sizes.");
        var shape = new long[dims.Count];
        for (var i = 0; i < shape.Length; i++)
        {
            if (dims[i] is not JsonValue d || !d.TryGetValue<long>(out shape[i]) || shape[i] <= 0 || shape[i] > int.MaxValue)
                throw new QuantizationException($"{source}: \"{key}\" shape entry {i} must be a positive integer.");
        }
        if (shape.Aggregate(1.0, (a, b) => a * b) > 1L << 40)
            throw new QuantizationException($"{source}: \"{key}\" shape [{string.Join(", ", shape)}] is too large.");
        if (json["nested_blocksize"] is null) return new Fields(type, blocksize, dtype, shape, null, 0);
        var nestedBlocksize = Int("nested_blocksize");
        if (nestedBlocksize <= 0 || nestedBlocksize > 4096)
            throw new QuantizationException($"{source}: \"{key}\" has nested_blocksize {nestedBlocksize}; expected 1..4096 (bitsandbytes writes 256).");
        if (Str("nested_dtype") != "float32")
            throw new QuantizationException($"{source}: \"{key}\" has nested_dtype \"{Str("nested_dtype")}\"; expected float32.");
        if (json["nested_offset"] is not JsonValue o || !o.TryGetValue<double>(out var offset) || !double.IsFinite(offset))
            throw new QuantizationException($"{source}: \"{key}\" needs a finite number \"nested_offset\".");
        return new Fields(type, blocksize, dtype, shape, nestedBlocksize, (float)offset);
    }

    private static ScalarType? FloatDtype(string name) => name switch
    {
        "float32" => ScalarType.Float32,
        "bfloat16" => ScalarType.BFloat16,
        "float16" => ScalarType.Float16,
        _ => null,
    };

    private static string DtypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a 4-bit source dtype"),
    };
}
