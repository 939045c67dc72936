using System.Text.Json;

namespace Adapters.Hub.Upload;

/// <summary>
/// A folder written by PEFT's <c>save_pretrained</c> (Python's or ours): <c>adapter_config.json</c> with a
/// <c>peft_type</c>, and <c>adapter_model.safetensors</c> or <c>adapter_model.bin</c>.
/// </summary>
public sealed class PeftFolder
{
    /// <summary>PEFT's weight files; one of them must exist.</summary>
    public static readonly IReadOnlyList<string> WeightFileNames = ["adapter_model.safetensors", "adapter_model.bin"];

    private PeftFolder(string path, string peftType, string? taskType, string? baseModel)
    {
        Path = path;
        PeftType = peftType;
        TaskType = taskType;
        BaseModelNameOrPath = baseModel;
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary><c>peft_type</c>, e.g. <c>LORA</c>.</summary>
    public string PeftType { get; }

    /// <summary><c>task_type</c>, e.g. <c>CAUSAL_LM</c>, when recorded.</summary>
    public string? TaskType { get; }

    /// <summary><c>base_model_name_or_path</c>, when recorded.</summary>
    public string? BaseModelNameOrPath { get; }

    /// <summary>Whether <paramref name="folder"/> has an <c>adapter_config.json</c> that is a JSON object with a <c>peft_type</c> (PEFT's mark; <c>adapters</c> configs have none).</summary>
    public static bool IsPeftFolder(string folder)
    {
        var configPath = System.IO.Path.Combine(folder, AdapterFolder.ConfigFileName);
        if (!File.Exists(configPath)) return false;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(configPath));
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("peft_type", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Reads and checks a PEFT folder.</summary>
    /// <exception cref="InvalidDataException">A file is missing or a field is not what PEFT writes.</exception>
    public static PeftFolder Open(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var root = System.IO.Path.GetFullPath(folder);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Adapter folder '{folder}' does not exist.");
        var configPath = System.IO.Path.Combine(root, AdapterFolder.ConfigFileName);
        if (!File.Exists(configPath)) throw new InvalidDataException($"'{folder}' is not a PEFT adapter folder: {AdapterFolder.ConfigFileName} is missing.");
        if (!WeightFileNames.Any(w => File.Exists(System.IO.Path.Combine(root, w))))
            throw new InvalidDataException($"'{folder}' has no PEFT weights: expected {string.Join(" or ", WeightFileNames)}.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(configPath));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{configPath}: not valid JSON ({ex.Message})", ex);
        }
        using (document)
        {
            var top = document.RootElement;
            if (top.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{configPath}: expected a JSON object at the top level.");
            var peftType = String(top, "peft_type", configPath) ?? throw new InvalidDataException($"{configPath}: field 'peft_type' is missing; expected PEFT's method name, e.g. \"LORA\".");
            return new PeftFolder(root, peftType, String(top, "task_type", configPath), String(top, "base_model_name_or_path", configPath));
        }
    }

    private static string? String(JsonElement element, string field, string path)
    {
        if (!element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{path}: field '{field}' is {value.ValueKind}; expected a string.");
        return value.GetString();
    }
}
