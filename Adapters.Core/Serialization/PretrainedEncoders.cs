using Adapters.Core.Models;

namespace Adapters.Core.Serialization;

/// <summary>
/// Builds an encoder from a Hugging Face model folder: <c>config.json</c> plus <c>model.safetensors</c>,
/// a sharded <c>model.safetensors.index.json</c> or <c>pytorch_model.bin</c> (looked for in that order,
/// as transformers does), with HF key names.
/// </summary>
public static class PretrainedEncoders
{
    private static readonly string[] s_weightFiles = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"];

    /// <summary>
    /// Loads the model in <paramref name="folder"/> in eval mode, as transformers' <c>from_pretrained</c> returns it; a
    /// folder without weights gives a randomly initialised model.
    /// </summary>
    /// <param name="folder">The model folder.</param>
    /// <param name="requireWeights">Fail instead of returning random weights when no weight file exists.</param>
    /// <exception cref="AdapterLoadException">Weights are missing for the model or have the wrong shape.</exception>
    public static AdapterModel Load(string folder, bool requireWeights = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath)) throw new AdapterLoadException($"'{folder}' is not a model folder: config.json is missing.");
        var model = EncoderModels.Create(EncoderConfig.Read(configPath));
        var weightsPath = s_weightFiles.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists);
        if (weightsPath is null)
        {
            if (requireWeights) throw new AdapterLoadException($"'{folder}' has no weights: expected {string.Join(", ", s_weightFiles)}.");
            model.eval();
            return model;
        }
        try
        {
            using var weights = TensorFiles.Load(weightsPath);
            var (missing, _) = model.LoadModelStateDict(weights);
            if (missing.Count > 0)
            {
                throw new AdapterLoadException($"{weightsPath} is missing {missing.Count} weight(s) of the model, e.g. {string.Join(", ", missing.Take(5))}.");
            }
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
