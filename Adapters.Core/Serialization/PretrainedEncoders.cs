using Adapters.Core.Models;
using Adapters.Core.Quantization;
using static TorchSharp.torch;

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
    /// <param name="dtype">
    /// The parameter dtype; float32 when null, as transformers loads by default. The model is built in this dtype and
    /// each checkpoint tensor is read in its stored dtype and converted while copied in, one tensor at a time.
    /// </param>
    /// <param name="device">The device of the parameters; the CPU when null.</param>
    /// <exception cref="AdapterLoadException">Weights are missing for the model or have the wrong shape.</exception>
    public static AdapterModel Load(string folder, bool requireWeights = false, ScalarType? dtype = null, Device? device = null) =>
        Load(folder, requireWeights, dtype, device, onRead: null);

    /// <summary>
    /// Loads the encoder in <paramref name="folder"/> with its adaptable projections quantized to 4 bits (see
    /// <see cref="AdapterModel.QuantizeBaseWeights"/>); projections the checkpoint stores in bitsandbytes' 4-bit form
    /// keep their stored bytes. <paramref name="dtype"/> is the compute dtype of the 4-bit layers and everything else's dtype.
    /// </summary>
    /// <exception cref="AdapterLoadException">The folder has no weights, or weights are missing or misshapen.</exception>
    /// <exception cref="QuantizationException">A stored 4-bit weight is malformed.</exception>
    public static AdapterModel Load(string folder, FourBitOptions quantization, ScalarType? dtype = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(quantization);
        quantization.Validate();
        var model = Load(folder, requireWeights: true, dtype, device, onRead: null, quantization);
        model.QuantizeBaseWeights(quantization);
        return model;
    }

    /// <summary><see cref="Load(string, bool, ScalarType?, Device?)"/> that shows <paramref name="onRead"/> every checkpoint tensor as read.</summary>
    internal static AdapterModel Load(string folder, bool requireWeights, ScalarType? dtype, Device? device, Action<string, Tensor>? onRead, FourBitOptions? quantization = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath)) throw new AdapterLoadException($"'{folder}' is not a model folder: config.json is missing.");
        var weightsPath = s_weightFiles.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists);
        if (weightsPath is null && requireWeights)
            throw new AdapterLoadException($"'{folder}' has no weights: expected {string.Join(", ", s_weightFiles)}.");
        AdapterModel model;
        // With quantization (and weights to load), the 4-bit layers are built without dense weights and quantized per stored tensor.
        using (quantization is not null && weightsPath is not null ? new FourBitLoadScope(quantization) : null)
            model = EncoderModels.Create(EncoderConfig.Read(configPath), device, dtype);
        if (weightsPath is null)
        {
            model.eval();
            return model;
        }
        try
        {
            using var file = TensorFiles.Open(weightsPath);
            var quantized = model.LoadFourBitWeights(file, weightsPath);
            var (missing, _) = model.LoadModelStateDict(new StreamedStateDict(file, onRead, quantized.FileKeys));
            missing = missing.Where(k => !quantized.ModelKeys.Contains(k)).ToArray();
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
