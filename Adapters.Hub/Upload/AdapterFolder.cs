using System.Text.Json;

namespace Adapters.Hub.Upload;

/// <summary>
/// A folder written by <c>save_adapter</c> (Python's or ours): <c>adapter_config.json</c>, the weights
/// (<c>pytorch_adapter.bin</c> and/or <c>adapter.safetensors</c>) and optionally the head files.
/// </summary>
public sealed class AdapterFolder
{
    /// <summary>The adapter configuration file every adapter folder has.</summary>
    public const string ConfigFileName = "adapter_config.json";

    /// <summary>The head configuration, present when a prediction head was saved.</summary>
    public const string HeadConfigFileName = "head_config.json";

    /// <summary>Weight files Python's <c>load_adapter</c> reads; one of them must exist.</summary>
    public static readonly IReadOnlyList<string> WeightFileNames = ["pytorch_adapter.bin", "adapter.safetensors"];

    private AdapterFolder(string path, string name, string? modelName, string? modelType, string method, string? headType)
    {
        Path = path;
        Name = name;
        ModelName = modelName;
        ModelType = modelType;
        Method = method;
        HeadType = headType;
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>The adapter's name (<c>name</c>).</summary>
    public string Name { get; }

    /// <summary>The base model it was trained on (<c>model_name</c>), when recorded.</summary>
    public string? ModelName { get; }

    /// <summary>The base model's type (<c>model_type</c>), when recorded.</summary>
    public string? ModelType { get; }

    /// <summary>The method: <c>config.architecture</c>, or <c>bottleneck</c> when absent (Python's rule).</summary>
    public string Method { get; }

    /// <summary>The head type from <c>head_config.json</c>, when a head was saved.</summary>
    public string? HeadType { get; }

    /// <summary>Reads and checks an adapter folder.</summary>
    /// <exception cref="InvalidDataException">A file is missing or a JSON field is not what Python writes.</exception>
    public static AdapterFolder Open(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var root = System.IO.Path.GetFullPath(folder);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Adapter folder '{folder}' does not exist.");
        var configPath = System.IO.Path.Combine(root, ConfigFileName);
        if (!File.Exists(configPath)) throw new InvalidDataException($"'{folder}' is not an adapter folder: {ConfigFileName} is missing.");
        if (!WeightFileNames.Any(w => File.Exists(System.IO.Path.Combine(root, w))))
        {
            throw new InvalidDataException($"'{folder}' has no adapter weights: expected {string.Join(" or ", WeightFileNames)}.");
        }

        using var config = ReadJson(configPath);
        var top = config.RootElement;
        var name = RequiredString(top, "name", configPath);
        var method = top.TryGetProperty("config", out var inner) && inner.ValueKind == JsonValueKind.Object
            && inner.TryGetProperty("architecture", out var architecture) && architecture.ValueKind == JsonValueKind.String
            ? architecture.GetString()!
            : "bottleneck";

        string? headType = null;
        var headPath = System.IO.Path.Combine(root, HeadConfigFileName);
        if (File.Exists(headPath))
        {
            using var head = ReadJson(headPath);
            if (head.RootElement.TryGetProperty("config", out var headConfig) && headConfig.ValueKind == JsonValueKind.Object)
            {
                headType = OptionalString(headConfig, "head_type", headPath);
            }
        }
        return new AdapterFolder(root, name, OptionalString(top, "model_name", configPath), OptionalString(top, "model_type", configPath), method, headType);
    }

    private static JsonDocument ReadJson(string path)
    {
        try
        {
            var document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw new InvalidDataException($"{path}: expected a JSON object at the top level.");
            }
            return document;
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({ex.Message})", ex);
        }
    }

    private static string RequiredString(JsonElement element, string field, string path) =>
        OptionalString(element, field, path) ?? throw new InvalidDataException($"{path}: field '{field}' is missing; expected the adapter's name as a string.");

    private static string? OptionalString(JsonElement element, string field, string path)
    {
        if (!element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{path}: field '{field}' is {value.ValueKind}; expected a string.");
        return value.GetString();
    }
}
