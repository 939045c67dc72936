using Adapters.Core.Configuration;
using Adapters.Core.Generation;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using Adapters.Core.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>
/// The one place that turns what a user has into a model, dispatching on <c>model_type</c>: a model folder
/// (<c>config.json</c> plus weights, through <see cref="PretrainedEncoders"/> or <see cref="PretrainedDecoders"/>),
/// a config file of any name, or a config object. Encoders are bert, roberta, xlm-roberta and distilbert; decoders
/// are <see cref="DecoderModels.ModelTypes"/>.
/// </summary>
public static class ModelFactory
{
    /// <summary>
    /// Builds the model <paramref name="path"/> names. A folder gives its <c>config.json</c> with the folder's weights when
    /// it has them. A file is read as the config itself, whatever its name, and gives random weights: weights beside
    /// it may belong to another config, so they are never picked up silently.
    /// </summary>
    /// <param name="path">A model folder or a config file.</param>
    /// <param name="dtype">The parameter dtype; null keeps the checkpoint's (float32 for random weights).</param>
    /// <param name="requireWeights">Fail when a folder has no weights, or when <paramref name="path"/> is a config file.</param>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>, or the folder has no config.json.</exception>
    /// <exception cref="AdapterLoadException">Weights are required but absent, or missing or misshapen.</exception>
    /// <exception cref="AdapterConfigException">The config is invalid or its model type is not supported.</exception>
    public static PretrainedModel Load(string path, ScalarType? dtype = null, bool requireWeights = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path))
        {
            if (requireWeights)
                throw new AdapterLoadException($"'{path}' is a config file, not a model folder with weights; pass the folder holding config.json and the weights.");
            return FromConfigFile(path, dtype);
        }
        if (!Directory.Exists(path))
            throw new FileNotFoundException($"Model {path} does not exist; pass a model folder or a config file.", path);
        var configPath = Path.Combine(path, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"'{path}' is not a model folder: config.json is missing.", configPath);
        if (DecoderModels.IsDecoder(DecoderModels.ReadModelType(configPath)))
            return Wrap(PretrainedDecoders.Load(path, dtype, requireWeights), path);
        var encoder = PretrainedEncoders.Load(path, requireWeights);
        return ConvertEncoder(encoder, dtype, path);
    }

    /// <summary>Builds a randomly initialised model from the config file at <paramref name="configPath"/> (any file name).</summary>
    /// <exception cref="AdapterConfigException">The config is invalid or its model type is not supported.</exception>
    public static PretrainedModel FromConfigFile(string configPath, ScalarType? dtype = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(configPath);
        return FromConfig(File.ReadAllText(configPath), configPath, dtype);
    }

    /// <summary>Builds a randomly initialised model from config text (a <c>config.json</c>'s content).</summary>
    /// <param name="configJson">The config as JSON.</param>
    /// <param name="sourceName">Names the config in error messages.</param>
    /// <param name="dtype">The parameter dtype; float32 when null.</param>
    /// <exception cref="AdapterConfigException">The config is invalid or its model type is not supported.</exception>
    public static PretrainedModel FromConfig(string configJson, string sourceName = "config.json", ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(configJson);
        var modelType = new HfConfigReader(configJson, sourceName).ModelType;
        if (DecoderModels.IsDecoder(modelType))
            return Wrap(DecoderModels.Create(configJson, sourceName, dtype: dtype), sourceName);
        if (modelType is null)
            throw new AdapterConfigException($"{sourceName}: \"model_type\" is missing; expected one of bert, roberta, xlm-roberta, distilbert, {string.Join(", ", DecoderModels.ModelTypes)}.");
        return ConvertEncoder(EncoderModels.Create(EncoderConfig.Parse(configJson, sourceName)), dtype, sourceName);
    }

    /// <summary>Builds a randomly initialised encoder (BERT, RoBERTa, XLM-R, DistilBERT) from a config object.</summary>
    /// <exception cref="AdapterConfigException">The model type is not an encoder this port builds.</exception>
    public static PretrainedModel FromConfig(EncoderConfig config, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        return ConvertEncoder(EncoderModels.Create(config), dtype, $"{config.ModelType} config");
    }

    /// <summary>Builds a randomly initialised GPT-2 causal LM from a config object.</summary>
    public static PretrainedModel FromConfig(Gpt2Config config, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Wrap(new Gpt2LMHeadModel(config, dtype: dtype), "gpt2 config");
    }

    /// <summary>Builds a randomly initialised Llama / Mistral / Qwen2 causal LM from a config object.</summary>
    public static PretrainedModel FromConfig(LlamaConfig config, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Wrap(new LlamaForCausalLM(config, dtype: dtype), $"{config.ModelType} config");
    }

    private static PretrainedModel Wrap(ICausalLM model, string source) => new((nn.Module)model, model.BaseModel, model, source);

    private static PretrainedModel ConvertEncoder(AdapterModel encoder, ScalarType? dtype, string source)
    {
        try
        {
            if (dtype is { } target && target != ScalarType.Float32) encoder.to(target);
            return new PretrainedModel(encoder, encoder, null, source);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }
}
