using System.Text;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Serialization;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>PEFT folders of prompt-learning methods and Llama-Adapter: reading their config and writing them as PEFT's <c>save_pretrained</c> does.</summary>
public static class PeftPromptLearningFiles
{
    /// <summary>The config at <paramref name="configPath"/> when its <c>peft_type</c> is one of the four methods; null for any other PEFT type.</summary>
    /// <exception cref="AdapterConfigException">The file is not a JSON object, or a prompt-learning field is invalid.</exception>
    public static PeftPromptLearningConfig? TryReadConfig(string configPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(configPath);
        if (ConfigJson.Parse(File.ReadAllText(configPath, Encoding.UTF8), configPath) is not JsonObject doc)
            throw new AdapterConfigException($"{configPath}: expected a JSON object.");
        var type = doc["peft_type"] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        return type is not null && PeftMethodRegistry.Find(type) is PeftPromptLearningPeftMethod ? PeftPromptLearningConfig.FromDocument(doc, configPath) : null;
    }

    /// <summary>
    /// Writes adapter <paramref name="name"/> as a PEFT folder: <c>adapter_config.json</c> and
    /// <c>adapter_model.safetensors</c> (and <c>adapter_model.bin</c> when <paramref name="writeTorchBin"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The adapter is not a PEFT prompt-learning adapter or Llama-Adapter.</exception>
    public static PeftPromptLearningConfig SavePeftPromptLearning(this AdapterModel model, string directory, string name, bool writeTorchBin = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var (config, weights) = model.CreatePeftPromptLearningState(name);
        Directory.CreateDirectory(directory);
        config.Write(Path.Combine(directory, PeftAdapterConfig.FileName));
        var metadata = new[] { new KeyValuePair<string, string>("format", "pt") };
        TensorFiles.Save(Path.Combine(directory, PeftFiles.SafetensorsWeights), weights, metadata);
        if (writeTorchBin) TensorFiles.Save(Path.Combine(directory, PeftFiles.TorchWeights), weights);
        return config;
    }
}
