using System.Text;
using Adapters.Core.Configuration;
using Adapters.Core.Serialization;
using Adapters.Core.Serialization.Pickle;
using Adapters.Hub.Cards;
using Adapters.Hub.Legacy;
using Adapters.Hub.Xet;
using Adapters.Hub.Xet.Shards;

namespace Adapters.Testing.Fuzz;

/// <summary>The parsers the fuzzer feeds.</summary>
internal enum FuzzTarget
{
    Safetensors,
    TorchZip,
    TorchLegacy,
    AdapterConfig,
    ModelCard,
    RegistryCard,
    XetShard,
}

/// <summary>A real file the mutations start from.</summary>
internal sealed record FuzzSeed(FuzzTarget Target, string Name, byte[] Bytes);

/// <summary>One generated input: the seed it came from and the mutated bytes.</summary>
internal sealed record FuzzCase(long Index, FuzzSeed Seed, byte[] Input);

/// <summary>
/// Seeded mutations of the repository's real fixtures (safetensors, torch zip and legacy pickles, adapter configs,
/// model cards, registry cards, Xet shards) fed to the public parsers. <see cref="Run"/> returns normally for a success or a
/// typed error and lets anything else escape; callers decide how to watch time and memory. Shared by the bounded
/// test and the bench's long fuzz mode, so both judge outcomes the same way.
/// </summary>
internal sealed class ParserFuzz : IDisposable
{
    private const int MaxInputBytes = 4 << 20;

    private static readonly (FuzzTarget Target, string Path)[] s_seedFiles =
    [
        (FuzzTarget.Safetensors, "tensors/huggingface__safetensors/samples/overall.safetensors"),
        (FuzzTarget.Safetensors, "tensors/FluxML__SafeTensors.jl/test/non_sharded/model.with_metadata.safetensors"),
        (FuzzTarget.Safetensors, "tensors/shaltielshmid__TorchSharp.PyBridge/TorchSharp.PyBridge.Tests/pickled_tensors/tensors.safetensors"),
        (FuzzTarget.TorchZip, "tensors/generated/zip_dtypes.pt"),
        (FuzzTarget.TorchZip, "tensors/huggingface__candle/candle-core/tests/fortran_tensor_3d.pth"),
        (FuzzTarget.TorchZip, "tensors/shaltielshmid__TorchSharp.PyBridge/TorchSharp.PyBridge.Tests/pickled_optimizers/adam_load.pth"),
        (FuzzTarget.TorchZip, "hostile/D-hang-stride_0_broadcast_2_40_elements__zip_.bin"),
        (FuzzTarget.TorchZip, "hostile/laughs.bin"),
        (FuzzTarget.TorchLegacy, "tensors/generated/legacy_p1.pt"),
        (FuzzTarget.TorchLegacy, "tensors/generated/legacy_p2.pt"),
        (FuzzTarget.TorchLegacy, "hostile/D-hang-stride_0_broadcast_2_40_elements__legacy_.bin"),
        (FuzzTarget.AdapterConfig, "models/python-written/md_crosslingual/adapter_config.json"),
        (FuzzTarget.AdapterConfig, "models/python-written/bigbird_rotten_tomatoes/adapter_config.json"),
        (FuzzTarget.ModelCard, "hub/python-cache/models--ada--tiny-adapter/snapshots/e7da7f221d5bf496a48136c0cd264e630fe9fcc8/README.md"),
        (FuzzTarget.RegistryCard, "legacy-hub/adapters/nirantk/bert-base-multilingual-uncased-hinglish-sentiment.yaml"),
        (FuzzTarget.RegistryCard, "legacy-hub/adapters/mlki/xlm-roberta-large_mlki_es_pfeiffer.yaml"),
        (FuzzTarget.RegistryCard, "hostile/yaml-bomb-card/bert-base-multilingual-uncased-hinglish-sentiment.yaml"),
        (FuzzTarget.XetShard, "xet/hfjs-gpt2-dedupe.shard"),
    ];

    private static readonly string[] s_textInserts =
    [
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "{a: {a: {a: {a: {a: {a: {a: {a: ", "&x [*x, *x, *x, *x]", "*x", "&y ", ": ", "- ", "\n  - ",
        "\"", "'", "---\n", "...\n", "!!python/object:os.system ", "{", "}", "[", "]", ",", "\\u0000", "1e999", "-0", "null",
        "\"config\": {\"config\": ", "\"r\": 8, \"r\": 9, ", "\u001b[2J",
    ];

    private static readonly byte[] s_pickleOps = [(byte)'(', (byte)'2', 0x94, (byte)'t', (byte)'l', (byte)'d', (byte)'a', (byte)'e', (byte)'u', (byte)'s', (byte)'h', (byte)'q', (byte)']', (byte)'}', (byte)')', 0x85, 0x86, 0x87, (byte)'R', (byte)'b', (byte)'Q', (byte)'0', (byte)'.'];

    private readonly string _registry;

    /// <summary>Loads the seeds from <paramref name="fixturesRoot"/> and prepares a scratch registry for registry cards.</summary>
    public ParserFuzz(string fixturesRoot)
    {
        Seeds = s_seedFiles.Select(s => new FuzzSeed(s.Target, s.Path, File.ReadAllBytes(Path.Combine(fixturesRoot, s.Path)))).ToList();
        _registry = Path.Combine(Path.GetTempPath(), "adapters-fuzz-registry-" + Guid.NewGuid().ToString("N"));
        var schemas = Path.Combine(_registry, "scripts", "schemas");
        Directory.CreateDirectory(schemas);
        Directory.CreateDirectory(Path.Combine(_registry, "adapters", "fuzz"));
        Directory.CreateDirectory(Path.Combine(_registry, "dist", "v2"));
        foreach (var schema in Directory.GetFiles(Path.Combine(fixturesRoot, "legacy-hub", "scripts", "schemas")))
        {
            File.Copy(schema, Path.Combine(schemas, Path.GetFileName(schema)));
        }
    }

    /// <summary>The real files mutations start from.</summary>
    public IReadOnlyList<FuzzSeed> Seeds { get; }

    /// <summary>Whether <paramref name="exception"/> is one of the typed errors the parsers document.</summary>
    public static bool IsTyped(Exception exception) =>
        exception is TensorFormatException or AdapterConfigException or ModelCardException or LegacyRegistryException
            or XetFormatException;

    /// <summary>The input for case <paramref name="index"/> of run <paramref name="seed"/>: the same numbers give the same bytes.</summary>
    public FuzzCase Case(int seed, long index)
    {
        // HashCode.Combine is salted per process; this mix is the same in every run.
        var mixed = unchecked(((ulong)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)index * 0xBF58476D1CE4E5B9UL));
        var random = new Random(unchecked((int)(mixed ^ (mixed >> 31))));
        var origin = Seeds[random.Next(Seeds.Count)];
        var bytes = origin.Bytes;
        var rounds = random.Next(1, 4);
        for (var i = 0; i < rounds; i++) bytes = Mutate(bytes, origin.Target, random);
        return new FuzzCase(index, origin, bytes);
    }

    /// <summary>Parses the case and reads everything it yields; returns on success or a typed error, throws otherwise.</summary>
    /// <returns>True when the input parsed, false when it ended in a typed error.</returns>
    public bool Run(FuzzCase fuzzCase)
    {
        ArgumentNullException.ThrowIfNull(fuzzCase);
        try
        {
            Exercise(fuzzCase.Seed.Target, fuzzCase.Input);
            return true;
        }
        catch (Exception ex) when (IsTyped(ex))
        {
            return false;
        }
    }

    private void Exercise(FuzzTarget target, byte[] input)
    {
        switch (target)
        {
            case FuzzTarget.Safetensors:
            case FuzzTarget.TorchZip:
            case FuzzTarget.TorchLegacy:
                ReadTensors(input);
                break;
            case FuzzTarget.AdapterConfig:
                {
                    var file = AdapterConfigFile.Parse(Encoding.UTF8.GetString(input));
                    _ = file.Name;
                    _ = file.GetConfig();
                    _ = file.ToJsonString();
                    break;
                }
            case FuzzTarget.ModelCard:
                {
                    var card = ModelCard.Parse(Encoding.UTF8.GetString(input));
                    _ = card.Metadata.Tags;
                    _ = card.Metadata.ToYaml();
                    _ = card.ToString();
                    break;
                }
            case FuzzTarget.RegistryCard:
                {
                    const string relative = "adapters/fuzz/card.yaml";
                    File.WriteAllBytes(Path.Combine(_registry, relative), input);
                    var card = LegacyRegistry.OpenFolder(_registry).GetCardAsync(relative).GetAwaiter().GetResult();
                    _ = card.Type;
                    break;
                }
            case FuzzTarget.XetShard:
                {
                    var shard = XetShardReader.Read(input, "fuzzed.shard");
                    _ = shard.Xorbs.Sum(x => x.UnpackedBytes) + shard.Files.Sum(f => f.Length);
                    break;
                }
        }
    }

    private static void ReadTensors(byte[] input)
    {
        TensorFile file = input.Length >= 4 && input[0] == 'P' && input[1] == 'K' ? TorchPickleFile.FromBytes(input, "fuzzed.bin")
            : input.Length >= 9 && input[8] == '{' ? SafeTensorsFile.FromBytes(input, "fuzzed.safetensors")
            : TorchPickleFile.FromBytes(input, "fuzzed.bin");
        using (file)
        {
            foreach (var spec in file.Tensors)
            {
                if (file is TorchPickleFile pickle && !pickle.IsMaterializable(spec.Name))
                {
                    // Describing a view that expands beyond the limit must work; reading it must be refused, typed.
                    _ = pickle.ExpandedViewBytes(spec.Name);
                    try
                    {
                        pickle.ReadValues(spec.Name, _ => { });
                    }
                    catch (TensorLimitException)
                    {
                        continue;
                    }
                    throw new InvalidOperationException($"tensor '{spec.Name}' expands beyond the view limit but was read anyway");
                }
                long total = 0;
                file.ReadValues(spec.Name, chunk => total += chunk.Length);
                if (total != spec.ByteLength) throw new InvalidOperationException($"tensor '{spec.Name}' streamed {total} bytes, its spec says {spec.ByteLength}");
            }
        }
    }

    private static byte[] Mutate(byte[] original, FuzzTarget target, Random random)
    {
        if (original.Length == 0) return [(byte)random.Next(256)];
        var text = target is FuzzTarget.AdapterConfig or FuzzTarget.ModelCard or FuzzTarget.RegistryCard;
        var choice = random.Next(text ? 10 : 9);
        byte[] result;
        switch (choice)
        {
            case 0: // truncate
                result = original[..random.Next(original.Length)];
                break;
            case 1: // a byte in the first 256 (headers, pickle opcodes, front matter)
                result = (byte[])original.Clone();
                result[random.Next(Math.Min(256, result.Length))] = (byte)random.Next(256);
                break;
            case 2: // a byte anywhere
                result = (byte[])original.Clone();
                result[random.Next(result.Length)] = (byte)random.Next(256);
                break;
            case 3: // a run of an interesting value (lengths and sizes become huge, zero or negative)
                {
                    result = (byte[])original.Clone();
                    var at = random.Next(result.Length);
                    var value = random.Next(4) switch { 0 => 0xFF, 1 => 0x7F, 2 => 0x00, _ => 0x80 };
                    for (var k = 0; k < random.Next(1, 9) && at + k < result.Length; k++) result[at + k] = (byte)value;
                    break;
                }
            case 4: // delete a range
                {
                    var at = random.Next(original.Length);
                    var count = Math.Min(original.Length - at, random.Next(1, 32));
                    result = [.. original[..at], .. original[(at + count)..]];
                    break;
                }
            case 5: // repeat a slice many times (floods: DUP, MEMOIZE, nesting, list items)
                {
                    var at = random.Next(original.Length);
                    var count = Math.Min(original.Length - at, random.Next(1, 16));
                    var times = random.Next(2, 5000);
                    var slice = original.AsSpan(at, count).ToArray();
                    var bytes = new List<byte>(original.Length + count * times);
                    bytes.AddRange(original.AsSpan(0, at));
                    for (var t = 0; t < times && bytes.Count < MaxInputBytes; t++) bytes.AddRange(slice);
                    bytes.AddRange(original.AsSpan(at));
                    result = [.. bytes];
                    break;
                }
            case 6: // copy one slice over another place (splices structures)
                {
                    result = (byte[])original.Clone();
                    var from = random.Next(result.Length);
                    var to = random.Next(result.Length);
                    var count = Math.Min(Math.Min(result.Length - from, result.Length - to), random.Next(1, 64));
                    Array.Copy(original, from, result, to, count);
                    break;
                }
            case 7: // a little-endian integer overwritten with an extreme (declared sizes, offsets, counts)
                {
                    result = (byte[])original.Clone();
                    var at = random.Next(Math.Max(1, result.Length - 8));
                    var value = random.Next(5) switch { 0 => 1UL << 31, 1 => (ulong)uint.MaxValue, 2 => (ulong)long.MaxValue, 3 => 1UL << 40, _ => (ulong)random.NextInt64() };
                    var width = random.Next(2) == 0 ? 4 : 8;
                    for (var k = 0; k < width && at + k < result.Length; k++) result[at + k] = (byte)(value >> (8 * k));
                    break;
                }
            case 8 when !text: // pickle opcodes inserted
                {
                    var at = random.Next(original.Length);
                    var ops = new byte[random.Next(1, 8)];
                    for (var k = 0; k < ops.Length; k++) ops[k] = s_pickleOps[random.Next(s_pickleOps.Length)];
                    result = [.. original[..at], .. ops, .. original[at..]];
                    break;
                }
            default: // text structure inserted (nesting, anchors and aliases, duplicate keys, quotes)
                {
                    var at = random.Next(original.Length);
                    var insert = Encoding.UTF8.GetBytes(s_textInserts[random.Next(s_textInserts.Length)]);
                    var times = random.Next(4) == 0 ? random.Next(2, 2000) : 1;
                    var bytes = new List<byte>(original.Length + insert.Length * times);
                    bytes.AddRange(original.AsSpan(0, at));
                    for (var t = 0; t < times && bytes.Count < MaxInputBytes; t++) bytes.AddRange(insert);
                    bytes.AddRange(original.AsSpan(at));
                    result = [.. bytes];
                    break;
                }
        }
        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            Directory.Delete(_registry, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
