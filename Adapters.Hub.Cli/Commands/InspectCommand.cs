using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Security.Cryptography;
using System.Text.Json;
using Adapters.Core;
using Adapters.Core.Peft;
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
        var file = new Argument<string>("file") { Description = "A .safetensors file, a model.safetensors.index.json, a torch .bin/.pt/.pth (zip or legacy), or a PEFT adapter folder (its weights are listed with the PEFT method and targets)." };
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
        command.WithExamples("adapters-hub inspect adapter.safetensors", "adapters-hub inspect ./peft-lora", "adapters-hub inspect pytorch_adapter.bin --json", "adapters-hub inspect model.safetensors.index.json");
        return command;
    }

    /// <summary>Builds the report for one file.</summary>
    public static InspectReport Inspect(string path)
    {
        if (Directory.Exists(path))
        {
            if (!PeftFiles.IsPeftFolder(path))
                throw new FileNotFoundException($"{path} is a folder but not a PEFT adapter folder (no adapter_config.json with peft_type); pass a tensor file.", path);
            path = new[] { PeftFiles.SafetensorsWeights, PeftFiles.TorchWeights }.Select(f => Path.Combine(path, f)).FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException($"{path} has no PEFT weights: expected {PeftFiles.SafetensorsWeights} or {PeftFiles.TorchWeights}.", path);
        }
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
        var report = file switch
        {
            TorchPickleFile pickle => new InspectReport(path, pickle.IsZip ? "torch-zip" : "torch-legacy", null, pickle.Protocol,
                pickle.ArchiveRoot, pickle.ByteOrder, null, tensors.Count, tensors.Sum(t => t.Bytes), tensors),
            ShardedSafeTensorsFile sharded => new InspectReport(path, "safetensors-sharded", metadata, null, null, null,
                sharded.Index.ShardFiles, tensors.Count, tensors.Sum(t => t.Bytes), tensors),
            _ => new InspectReport(path, "safetensors", metadata, null, null, null, null, tensors.Count, tensors.Sum(t => t.Bytes), tensors),
        };
        return report with { Peft = PeftInfo(path, file) };
    }

    // Weights beside a PEFT config: the method, task and the modules its tensors adapt or replace, from PEFT's key layout
    // (base_model.model.<module>.<method tensor>…; a modules_to_save copy is <module>.<param>).
    private static InspectPeft? PeftInfo(string path, TensorFile file)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var name = Path.GetFileName(path);
        if (name is not (PeftFiles.SafetensorsWeights or PeftFiles.TorchWeights) || !PeftFiles.IsPeftFolder(folder)) return null;
        var config = PeftConfig.Read(Path.Combine(folder, PeftConfig.FileName));
        var targets = new SortedSet<string>(StringComparer.Ordinal);
        var saved = new SortedSet<string>(StringComparer.Ordinal);
        var model = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var key in file.Tensors.Select(t => t.Name))
        {
            if (!key.StartsWith(PeftFiles.KeyPrefix, StringComparison.Ordinal))
            {
                model.Add(key);
                continue;
            }
            var parts = key[PeftFiles.KeyPrefix.Length..].Split('.');
            var methodPart = Array.FindIndex(parts, p => s_methodTensorPrefixes.Any(m => p.StartsWith(m, StringComparison.Ordinal)));
            if (methodPart > 0) targets.Add(string.Join('.', parts[..methodPart]));
            else if (parts.Length > 1) saved.Add(string.Join('.', parts[..^1]));
        }
        return new InspectPeft(config.PeftType, config.TaskType, config.String("base_model_name_or_path"),
            config.Document["target_modules"]?.ToJsonString(), targets.ToArray(), saved.ToArray(), model.ToArray());
    }

    // The tensor-name prefixes of PEFT 0.14's tuner methods (get_peft_model_state_dict's filters).
    private static readonly string[] s_methodTensorPrefixes =
        ["lora_", "hada_", "lokr_", "ia3_", "oft_", "boft_", "vera_lambda_", "hra_", "bone_", "adaption_", "fourierft_", "ln_tuning_", "poly_"];

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
        if (report.Peft is { } peft)
        {
            output.WriteLine($"peft:     {peft.PeftType}{(peft.TaskType is null ? "" : $", task {peft.TaskType}")}{(peft.BaseModel is null ? "" : $", base model {peft.BaseModel}")}, target_modules {peft.TargetModules ?? "null"}");
            output.WriteLine($"          adapts {peft.Targets.Count} modules: {string.Join(", ", peft.Targets)}");
            if (peft.ModulesToSave.Count > 0) output.WriteLine($"          modules_to_save copies: {string.Join(", ", peft.ModulesToSave)}");
            if (peft.ModelTensors.Count > 0) output.WriteLine($"          model-level tensors: {string.Join(", ", peft.ModelTensors)}");
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
    IReadOnlyList<InspectTensor> Tensors)
{
    /// <summary>The PEFT method and targets when the file is a PEFT folder's weights, else null (and not written).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public InspectPeft? Peft { get; init; }
}

/// <summary>
/// What a PEFT folder's weights adapt: the method and task from its config, <c>target_modules</c> as written, the module
/// paths with method tensors, the <c>modules_to_save</c> copies, and model-level tensors (VeRA's <c>base_model.vera_A</c>).
/// </summary>
internal sealed record InspectPeft(string PeftType, string? TaskType, string? BaseModel, string? TargetModules,
    IReadOnlyList<string> Targets, IReadOnlyList<string> ModulesToSave, IReadOnlyList<string> ModelTensors);

/// <summary>
/// One tensor in the report; the hash covers its contiguous row-major little-endian values (null for a view too
/// large to materialise); <c>View</c> describes a view that reuses storage elements, null otherwise; <c>FourBit</c>
/// describes a bitsandbytes 4-bit weight or names the weight a state tensor belongs to, null otherwise.
/// </summary>
internal sealed record InspectTensor(string Name, string Dtype, long[] Shape, long Bytes, string? Sha256,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? View,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? FourBit = null);
