using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Security.Cryptography;
using System.Text.Json;
using Adapters.Core;
using Adapters.Core.Quantization;
using Adapters.Core.Serialization;
using Adapters.Core.Serialization.Pickle;

namespace Adapters.Hub.Cli.Commands;

/// <summary>
/// <c>adapters-hub inspect FILE [--json]</c>: every tensor's name, dtype, shape and SHA-256 of its logical values,
/// plus safetensors metadata or the pickle format and protocol; bitsandbytes 4-bit weights and their state keys are
/// recognised and described (type, original shape, block size, double quantization).
/// </summary>
internal static class InspectCommand
{
    private static readonly JsonSerializerOptions CompactJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A .safetensors file, a model.safetensors.index.json, or a torch .bin/.pt/.pth (zip or legacy)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var command = new Command("inspect", "List the tensors of a safetensors file, shard index or torch pickle with a SHA-256 of each tensor's values.")
        {
            file,
            json,
        };
        command.SetAction(parseResult => CommandErrors.Guard(parseResult, () =>
        {
            var report = Inspect(parseResult.GetValue(file)!);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json)) output.WriteLine(JsonSerializer.Serialize(report, CliJson.Options));
            else WriteText(output, report);
            return 0;
        }));
        command.WithExamples("adapters-hub inspect adapter.safetensors", "adapters-hub inspect pytorch_adapter.bin --json", "adapters-hub inspect model.safetensors.index.json");
        return command;
    }

    /// <summary>Builds the report for one file.</summary>
    public static InspectReport Inspect(string path)
    {
        LocalFiles.RequireFile(path);
        using var file = TensorFiles.Open(path);
        var tensors = file.Tensors.Select(spec => new InspectTensor(
            spec.Name,
            spec.DType.SafetensorsName() ?? spec.DType.TorchName(),
            spec.Shape,
            spec.ByteLength,
            Hash(file, spec.Name),
            ViewNote(file, spec.Name),
            FourBitNote(file, spec))).ToList();
        var metadata = file.Metadata?.ToDictionary(kv => kv.Key, kv => kv.Value);
        return file switch
        {
            TorchPickleFile pickle => new InspectReport(path, pickle.IsZip ? "torch-zip" : "torch-legacy", null, pickle.Protocol,
                pickle.ArchiveRoot, pickle.ByteOrder, null, tensors.Count, tensors.Sum(t => t.Bytes), tensors),
            ShardedSafeTensorsFile sharded => new InspectReport(path, "safetensors-sharded", metadata, null, null, null,
                sharded.Index.ShardFiles, tensors.Count, tensors.Sum(t => t.Bytes), tensors),
            _ => new InspectReport(path, "safetensors", metadata, null, null, null, null, tensors.Count, tensors.Sum(t => t.Bytes), tensors),
        };
    }

    private static string? Hash(TensorFile file, string name)
    {
        // A view that expands a small storage (stride 0) is described, never materialised just to be hashed.
        if (file is TorchPickleFile pickle && !pickle.IsMaterializable(name)) return null;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        file.ReadValues(name, chunk => sha.AppendData(chunk));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static string? ViewNote(TensorFile file, string name)
    {
        if (file is not TorchPickleFile pickle || pickle.ExpandedViewBytes(name) == 0) return null;
        var t = pickle.TensorRefs[name];
        var note = $"view of storage '{PyValues.Printable(t.Storage.Key)}' ({t.Storage.ByteLength} bytes) at offset {t.StorageOffset} with stride [{string.Join(", ", t.Stride)}]";
        return pickle.IsMaterializable(name)
            ? note
            : $"{note}; values not hashed: they expand beyond the {pickle.Limits.MaxExpandedViewBytes}-byte view limit";
    }

    private static bool HasQuantState(TensorFile file, string weightKey) =>
        Enum.GetValues<FourBitType>().Any(t => file.Contains($"{weightKey}.{BitsAndBytesFormat.QuantStateKeyPrefix}{t.Name()}"));

    // A packed weight is described from its state; a state key names the weight it belongs to.
    private static string? FourBitNote(TensorFile file, TensorSpec spec)
    {
        if (BitsAndBytesFormat.WeightKeyOf(spec.Name) is { } owner && file.Contains(owner) && HasQuantState(file, owner))
            return $"bitsandbytes 4-bit state of '{owner}'";
        if (!HasQuantState(file, spec.Name)) return null;
        TorchRuntime.Initialize();
        try
        {
            var count = spec.Shape.Aggregate(1L, (a, b) => a * b);
            using var state = BitsAndBytesFormat.ReadState(spec.Name, count, k => file.Contains(k) ? file.LoadTensor(k) : null, file.FilePath ?? spec.Name);
            return $"bitsandbytes {state.Type.Name()} 4-bit weight of shape [{string.Join(", ", state.Shape)}] ({state.Dtype.ToString().ToLowerInvariant()}), blocksize {state.Blocksize}"
                + (state.Nested is { } nested ? $", double quantization (blocksize {nested.Blocksize})" : "");
        }
        catch (QuantizationException e)
        {
            return $"bitsandbytes 4-bit weight with an invalid state: {e.Message}";
        }
    }

    private static void WriteText(TextWriter output, InspectReport report)
    {
        output.WriteLine(report.File);
        var format = report.Format switch
        {
            "torch-zip" => $"torch zip pickle (protocol {report.Protocol}, root '{report.ArchiveRoot}', byteorder {report.ByteOrder})",
            "torch-legacy" => $"torch legacy pickle (protocol {report.Protocol}, byteorder {report.ByteOrder})",
            "safetensors-sharded" => $"sharded safetensors ({report.Shards!.Count} shards)",
            _ => "safetensors",
        };
        output.WriteLine($"format:   {format}");
        if (report.Format.StartsWith("safetensors", StringComparison.Ordinal))
        {
            output.WriteLine("metadata: " + (report.Metadata is null ? "(none)" : JsonSerializer.Serialize(report.Metadata, CompactJson)));
        }
        output.WriteLine($"tensors:  {report.TensorCount} ({report.TotalBytes} bytes)");
        var nameWidth = Math.Min(60, report.Tensors.Select(t => t.Name.Length).DefaultIfEmpty(4).Max());
        foreach (var t in report.Tensors)
        {
            output.WriteLine($"  {t.Name.PadRight(nameWidth)}  {t.Dtype,-8} {"[" + string.Join(", ", t.Shape) + "]",-16} {t.Sha256 ?? "-"}");
            if (t.View is not null) output.WriteLine($"  {new string(' ', nameWidth)}  ({t.View})");
            if (t.FourBit is not null) output.WriteLine($"  {new string(' ', nameWidth)}  ({t.FourBit})");
        }
    }
}

/// <summary>The <c>inspect --json</c> object.</summary>
internal sealed record InspectReport(
    string File,
    string Format,
    Dictionary<string, string>? Metadata,
    int? Protocol,
    string? ArchiveRoot,
    string? ByteOrder,
    IReadOnlyList<string>? Shards,
    int TensorCount,
    long TotalBytes,
    IReadOnlyList<InspectTensor> Tensors);

/// <summary>
/// One tensor in the report; the hash covers its contiguous row-major little-endian values (null for a view too
/// large to materialise); <c>View</c> describes a view that reuses storage elements, null otherwise; <c>FourBit</c>
/// describes a bitsandbytes 4-bit weight or names the weight a state tensor belongs to, null otherwise.
/// </summary>
internal sealed record InspectTensor(string Name, string Dtype, long[] Shape, long Bytes, string? Sha256,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? View,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? FourBit = null);
