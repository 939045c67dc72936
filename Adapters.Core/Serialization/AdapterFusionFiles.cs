using System.Text;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Models;

namespace Adapters.Core.Serialization;

/// <summary>
/// Saves and loads AdapterFusion layers as folders in the layout of Python's <c>save_adapter_fusion</c> /
/// <c>load_adapter_fusion</c>: <c>adapter_fusion_config.json</c> and the weights as
/// <c>pytorch_model_adapter_fusion.bin</c> (what Python reads by default) and <c>model_adapter_fusion.safetensors</c>.
/// </summary>
public static class AdapterFusionFiles
{
    /// <summary>Fusion weights as a torch zip pickle (Python's default).</summary>
    public const string FusionTorchFile = "pytorch_model_adapter_fusion.bin";

    /// <summary>Fusion weights as safetensors.</summary>
    public const string FusionSafetensorsFile = "model_adapter_fusion.safetensors";

    /// <summary>Writes fusion <paramref name="name"/> (e.g. <c>"a,b"</c>) of <paramref name="model"/> into <paramref name="directory"/>.</summary>
    public static void SaveAdapterFusion(this AdapterModel model, string directory, string name)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var weights = model.GetAdapterFusionStateDict(name);
        var json = PythonJson.Serialize(model.CreateAdapterFusionConfigDocument(name));
        AtomicFile.Write(Path.Combine(directory, AdapterModel.AdapterFusionConfigFileName), stream => stream.Write(new UTF8Encoding(false).GetBytes(json)));
        TensorFiles.Save(Path.Combine(directory, FusionTorchFile), weights);
        TensorFiles.Save(Path.Combine(directory, FusionSafetensorsFile), weights);
    }

    /// <summary>
    /// Loads a fusion folder written by Python or by <see cref="SaveAdapterFusion"/>, preferring the safetensors file.
    /// The fused adapters must already be loaded. Returns the name the fusion was added under.
    /// </summary>
    /// <exception cref="AdapterLoadException">The folder has no fusion config or weights, or weights are missing or mis-shaped.</exception>
    public static AdapterLoadResult LoadAdapterFusion(this AdapterModel model, string directory, string? loadAs = null, bool setActive = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var configPath = Path.Combine(directory, AdapterModel.AdapterFusionConfigFileName);
        if (!File.Exists(configPath))
            throw new AdapterLoadException($"'{directory}' is not an AdapterFusion folder: {AdapterModel.AdapterFusionConfigFileName} is missing.");
        var weightsPath = new[] { FusionSafetensorsFile, FusionTorchFile }.Select(f => Path.Combine(directory, f)).FirstOrDefault(File.Exists)
            ?? throw new AdapterLoadException($"'{directory}' has no AdapterFusion weights: expected {FusionSafetensorsFile} or {FusionTorchFile}.");
        var document = ConfigJson.Parse(File.ReadAllText(configPath, Encoding.UTF8), configPath) as JsonObject
            ?? throw new AdapterConfigException($"{configPath} must hold a JSON object.");
        using var weights = TensorFiles.Load(weightsPath);
        return model.LoadAdapterFusionStateDict(document, weights, loadAs, setActive);
    }
}
