using Adapters.Core.Configuration;
using Adapters.Core.Generation;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>Builds the causal language model that matches a <c>config.json</c>'s <c>model_type</c>.</summary>
public static class DecoderModels
{
    /// <summary>The model types this port builds as decoders.</summary>
    public static IReadOnlyList<string> ModelTypes { get; } = ["gpt2", "llama", "mistral", "qwen2"];

    /// <summary>Whether <paramref name="modelType"/> is a decoder this port builds.</summary>
    public static bool IsDecoder(string? modelType) => modelType is not null && ModelTypes.Contains(modelType);

    /// <summary>The <c>model_type</c> of a <c>config.json</c> file, or null when it has none.</summary>
    /// <exception cref="AdapterConfigException">The file is not a JSON object.</exception>
    public static string? ReadModelType(string configPath) => new HfConfigReader(File.ReadAllText(configPath), configPath).ModelType;

    /// <summary>A randomly initialised causal LM for the config text <paramref name="configJson"/>.</summary>
    /// <exception cref="AdapterConfigException">The model type is not a supported decoder, or the config is invalid.</exception>
    public static ICausalLM Create(string configJson, string sourceName = "config.json", Device? device = null, ScalarType? dtype = null)
    {
        var type = new HfConfigReader(configJson, sourceName).ModelType;
        return type switch
        {
            "gpt2" => new Gpt2LMHeadModel(Gpt2Config.Parse(configJson, sourceName), device, dtype),
            "llama" or "mistral" or "qwen2" => new LlamaForCausalLM(LlamaConfig.Parse(configJson, sourceName), device, dtype),
            _ => throw new AdapterConfigException($"{sourceName}: model_type \"{type}\" is not a supported decoder; expected {string.Join(", ", ModelTypes)}."),
        };
    }

    /// <summary>
    /// A randomly initialised bare decoder for the config text <paramref name="configJson"/>: transformers'
    /// <c>GPT2Model</c> or <c>LlamaModel</c> (Mistral, Qwen2), without an LM head, as Python's decoder AdapterModels
    /// hold it; heads go on top with <see cref="Heads.FlexHeadModel"/>.
    /// </summary>
    /// <exception cref="AdapterConfigException">The model type is not a supported decoder, or the config is invalid.</exception>
    public static AdapterModel CreateBaseModel(string configJson, string sourceName = "config.json", Device? device = null, ScalarType? dtype = null)
    {
        var type = new HfConfigReader(configJson, sourceName).ModelType;
        return type switch
        {
            "gpt2" => new Gpt2Model(Gpt2Config.Parse(configJson, sourceName), device, dtype),
            "llama" or "mistral" or "qwen2" => new LlamaModel(LlamaConfig.Parse(configJson, sourceName), device, dtype),
            _ => throw new AdapterConfigException($"{sourceName}: model_type \"{type}\" is not a supported decoder; expected {string.Join(", ", ModelTypes)}."),
        };
    }
}
