using Adapters.Core.Configuration;
using Adapters.Core.Heads;
using Adapters.Core.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Serialization;

/// <summary>
/// Saves and loads adapters as folders in the layout Python's <c>save_adapter</c> writes and
/// <c>load_adapter</c> reads: <c>adapter_config.json</c>, the weights as <c>pytorch_adapter.bin</c> (what
/// Python reads by default) and <c>adapter.safetensors</c>, and for a head <c>head_config.json</c>,
/// <c>pytorch_model_head.bin</c> and <c>model_head.safetensors</c>.
/// </summary>
public static class AdapterFolderFiles
{
    /// <summary>Adapter weights as a torch zip pickle (Python's default).</summary>
    public const string AdapterTorchFile = "pytorch_adapter.bin";

    /// <summary>Adapter weights as safetensors.</summary>
    public const string AdapterSafetensorsFile = "adapter.safetensors";

    /// <summary>Head weights as a torch zip pickle.</summary>
    public const string HeadTorchFile = "pytorch_model_head.bin";

    /// <summary>Head weights as safetensors.</summary>
    public const string HeadSafetensorsFile = "model_head.safetensors";

    /// <summary>Writes adapter <paramref name="name"/> of <paramref name="model"/> into <paramref name="directory"/>.</summary>
    public static void SaveAdapter(this AdapterModel model, string directory, string name)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (model.GetAdapterConfig(name) is Peft.PromptLearning.PeftPromptLearningConfig peft)
            throw new AdapterConfigException($"Adapter \"{name}\" is a PEFT {peft.PeftType} adapter, which Python's adapters cannot load: save it with SavePeftPromptLearning, or convert it with ConvertPeftPromptLearningToAdapters first.");
        Directory.CreateDirectory(directory);
        var weights = model.GetAdapterStateDict(name);
        model.CreateAdapterConfigFile(name).Write(Path.Combine(directory, AdapterConfigFile.FileName));
        TensorFiles.Save(Path.Combine(directory, AdapterTorchFile), weights);
        TensorFiles.Save(Path.Combine(directory, AdapterSafetensorsFile), weights);
    }

    /// <summary>
    /// Writes adapter <paramref name="name"/> and, when <paramref name="withHead"/> and a head of the same
    /// name exists, that head, as Python's <c>save_adapter(..., with_head=True)</c>.
    /// </summary>
    public static void SaveAdapter(this FlexHeadModel model, string directory, string name, bool withHead = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.BaseModel.SaveAdapter(directory, name);
        if (withHead && model.HeadNames.Contains(name)) model.SaveHead(directory, name);
    }

    /// <summary>Writes head <paramref name="name"/> into <paramref name="directory"/>.</summary>
    public static void SaveHead(this FlexHeadModel model, string directory, string name)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        var weights = model.GetHeadStateDict(name);
        WriteText(Path.Combine(directory, HeadConfigFile.FileName), model.CreateHeadConfigFile(name).ToJsonString());
        TensorFiles.Save(Path.Combine(directory, HeadTorchFile), weights);
        TensorFiles.Save(Path.Combine(directory, HeadSafetensorsFile), weights);
    }

    /// <summary>
    /// Loads an adapter folder written by Python or by <see cref="SaveAdapter(AdapterModel, string, string)"/>,
    /// preferring <c>adapter.safetensors</c> over <c>pytorch_adapter.bin</c>. Missing weights fail; unexpected
    /// ones are reported in the result.
    /// </summary>
    /// <exception cref="AdapterLoadException">The folder has no config or weights, or weights are missing or mis-shaped.</exception>
    public static AdapterLoadResult LoadAdapter(this AdapterModel model, string directory, string? loadAs = null, bool setActive = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        var configPath = Path.Combine(directory, AdapterConfigFile.FileName);
        if (!File.Exists(configPath)) throw new AdapterLoadException($"'{directory}' is not an adapter folder: {AdapterConfigFile.FileName} is missing.");
        var weightsPath = FirstExisting(directory, AdapterSafetensorsFile, AdapterTorchFile)
            ?? throw new AdapterLoadException($"'{directory}' has no adapter weights: expected {AdapterSafetensorsFile} or {AdapterTorchFile}.");
        using var weights = TensorFiles.Load(weightsPath);
        return model.LoadAdapterStateDict(AdapterConfigFile.Read(configPath), weights, loadAs, setActive);
    }

    /// <summary>
    /// Loads an adapter folder and, when it holds a head and <paramref name="withHead"/> is set, the head
    /// under the same name (<paramref name="loadAs"/> renames both), which becomes the active head when
    /// <paramref name="setActive"/> is set.
    /// </summary>
    public static AdapterLoadResult LoadAdapter(this FlexHeadModel model, string directory, string? loadAs = null, bool setActive = false, bool withHead = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = model.BaseModel.LoadAdapter(directory, loadAs, setActive);
        var headConfig = Path.Combine(directory, HeadConfigFile.FileName);
        if (!withHead || !File.Exists(headConfig)) return result;
        var headWeights = FirstExisting(directory, HeadSafetensorsFile, HeadTorchFile)
            ?? throw new AdapterLoadException($"'{directory}' has {HeadConfigFile.FileName} but no head weights: expected {HeadSafetensorsFile} or {HeadTorchFile}.");
        using var weights = TensorFiles.Load(headWeights);
        var head = model.LoadHeadStateDict(HeadConfigFile.Read(headConfig), weights, result.Name);
        if (setActive) model.ActiveHead = result.Name;
        return result with { UnexpectedKeys = [.. result.UnexpectedKeys, .. head.UnexpectedKeys] };
    }

    private static void WriteText(string path, string text) =>
        AtomicFile.Write(path, stream => stream.Write(new System.Text.UTF8Encoding(false).GetBytes(text)));

    private static string? FirstExisting(string directory, params string[] names) =>
        names.Select(n => Path.Combine(directory, n)).FirstOrDefault(File.Exists);
}
