using Adapters.Core.Configuration;
using Adapters.Core.Models.Bert;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using Adapters.Core.Serialization;
using static TorchSharp.torch;

namespace Adapters.Core.Models.SequenceClassification;

/// <summary>
/// Builds transformers' <c>AutoModelForSequenceClassification</c> from a model folder: BERT gets
/// <see cref="BertForSequenceClassification"/>, GPT-2 / Llama / Mistral / Qwen2 get
/// <see cref="DecoderForSequenceClassification"/>. A folder saved from such a task model brings its head
/// (<c>classifier.*</c>, <c>score.weight</c>); otherwise the head is new, as transformers initialises a missing one.
/// </summary>
public static class SequenceClassificationModels
{
    /// <summary>Loads the backbone in <paramref name="folder"/> (see <see cref="ModelFactory.Load"/>) and puts a head with <paramref name="numLabels"/> outputs on it, in eval mode.</summary>
    /// <exception cref="AdapterConfigException">The model type has no sequence-classification model here (RoBERTa's and DistilBERT's heads are not built).</exception>
    /// <exception cref="AdapterLoadException">The folder's weights are missing, misshapen, or its head does not have <paramref name="numLabels"/> outputs.</exception>
    public static SequenceClassificationModel Load(string folder, int numLabels, ScalarType? dtype = null, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath)) throw new AdapterLoadException($"'{folder}' is not a model folder: config.json is missing.");
        var modelType = DecoderModels.ReadModelType(configPath);
        SequenceClassificationModel model;
        if (DecoderModels.IsDecoder(modelType))
        {
            var backbone = PretrainedDecoders.LoadBaseModel(folder, dtype, device: device);
            var range = backbone switch
            {
                Gpt2Model gpt2 => gpt2.Config.InitializerRange,
                LlamaModel llama => llama.Config.InitializerRange,
                _ => 0.02,
            };
            model = new DecoderForSequenceClassification(backbone, numLabels, range);
        }
        else if (modelType == "bert")
        {
            var encoder = PretrainedEncoders.Load(folder, dtype: dtype, device: device);
            model = new BertForSequenceClassification((BertModel)encoder, numLabels, ReadClassifierDropout(configPath));
        }
        else
        {
            throw new AdapterConfigException($"{configPath}: no sequence-classification model for model_type \"{modelType}\" here; supported: bert, {string.Join(", ", DecoderModels.ModelTypes)}.");
        }
        try
        {
            LoadSavedHead(model, folder);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    // A checkpoint of the task model itself stores its head beside the backbone (classifier.weight, score.weight).
    private static void LoadSavedHead(SequenceClassificationModel model, string folder)
    {
        var weightsPath = new[] { "model.safetensors", "pytorch_model.bin" }.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists);
        if (weightsPath is null) return;
        using var file = TensorFiles.Open(weightsPath);
        using var _ = no_grad();
        foreach (var (member, parameter) in model.Head.named_parameters())
        {
            var key = $"{model.HeadName}.{member}";
            if (!file.Contains(key)) continue;
            using var saved = file.LoadTensor(key);
            if (!saved.shape.SequenceEqual(parameter.shape))
                throw new AdapterLoadException($"{weightsPath}: '{key}' has shape [{string.Join(", ", saved.shape)}] but the head needs [{string.Join(", ", parameter.shape)}] ({model.NumLabels} labels).");
            parameter.copy_(saved);
        }
    }

    private static double? ReadClassifierDropout(string configPath)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))?["classifier_dropout"];
        return node is null ? null : ConfigValues.ReadFloat(node, $"{configPath}: classifier_dropout");
    }
}
