using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Models.SequenceClassification;
using Adapters.Core.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners;

/// <summary>
/// A model folder with a PEFT tuner adapter on it, built as <c>PeftModel.from_pretrained</c> builds it for the
/// adapter's <c>task_type</c>: <c>SEQ_CLS</c> on the sequence-classification model (<see cref="SequenceClassificationModels"/>,
/// with as many labels as the saved head has), any other task type on the model <see cref="ModelFactory.Load"/>
/// builds (the causal LM of a decoder, the bare encoder).
/// </summary>
public sealed class PeftPretrainedModel : IDisposable
{
    private PeftPretrainedModel(nn.Module module, PeftTunerModel peft, PretrainedModel? pretrained, SequenceClassificationModel? classifier, PeftLoadResult loaded)
    {
        Module = module;
        Peft = peft;
        Pretrained = pretrained;
        Classifier = classifier;
        Loaded = loaded;
    }

    /// <summary>The module that owns every weight; dispose this object, not the module.</summary>
    public nn.Module Module { get; }

    /// <summary>The tuner holding the adapter.</summary>
    public PeftTunerModel Peft { get; }

    /// <summary>The model for task types other than <c>SEQ_CLS</c>, else null.</summary>
    public PretrainedModel? Pretrained { get; }

    /// <summary>The sequence-classification model for <c>SEQ_CLS</c>, else null.</summary>
    public SequenceClassificationModel? Classifier { get; }

    /// <summary>What loading the adapter found (missing and unexpected keys, warnings).</summary>
    public PeftLoadResult Loaded { get; }

    /// <summary>Whether <paramref name="adapterDirectory"/> holds a PEFT adapter whose method wraps layers (LoRA, IA³, LoHa, …, not prompt learning).</summary>
    public static bool IsTunerFolder(string adapterDirectory)
    {
        if (!PeftFiles.IsPeftFolder(adapterDirectory)) return false;
        var config = PeftConfig.Read(Path.Combine(adapterDirectory, PeftConfig.FileName));
        return PeftMethodRegistry.Find(config.PeftType) is PeftTunerMethod;
    }

    /// <summary>Builds the model in <paramref name="modelPath"/> for the adapter's task type and loads the adapter as <paramref name="adapterName"/>, active, in eval mode.</summary>
    /// <exception cref="AdapterLoadException">The folder is not a PEFT folder, or a tensor does not fit.</exception>
    /// <exception cref="AdapterConfigException">PEFT would refuse the config, or the task type has no model here.</exception>
    public static PeftPretrainedModel Load(string modelPath, string adapterDirectory, string adapterName = "default", ScalarType? dtype = null, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentException.ThrowIfNullOrEmpty(adapterDirectory);
        var configPath = Path.Combine(adapterDirectory, PeftConfig.FileName);
        if (!File.Exists(configPath)) throw new AdapterLoadException($"'{adapterDirectory}' is not a PEFT adapter folder: {PeftConfig.FileName} is missing.");
        var config = PeftConfig.Read(configPath);
        if (PeftMethodRegistry.Get(config) is not PeftTunerMethod)
            throw new AdapterConfigException($"{configPath}: peft_type \"{config.PeftType}\" does not wrap layers; load it onto the model with AdapterModel.LoadPeftAdapter.");
        switch (config.TaskType)
        {
            case PeftTaskTypes.SequenceClassification:
            {
                var classifier = SequenceClassificationModels.Load(modelPath, SavedLabelCount(adapterDirectory, modelPath), dtype, device);
                return Attach(classifier, new PeftTunerModel(classifier, classifier.ModelType), null, classifier, adapterDirectory, adapterName);
            }
            case PeftTaskTypes.TokenClassification or PeftTaskTypes.Seq2SeqLM or PeftTaskTypes.QuestionAnswering:
                throw new AdapterConfigException($"{configPath}: task_type \"{config.TaskType}\" needs a task model this port does not build; supported task types: {PeftTaskTypes.SequenceClassification}, {PeftTaskTypes.CausalLM}, {PeftTaskTypes.FeatureExtraction} or none.");
            default:
            {
                var pretrained = ModelFactory.Load(modelPath, dtype, device: device);
                return Attach(pretrained.Module, new PeftTunerModel(pretrained), pretrained, null, adapterDirectory, adapterName);
            }
        }
    }

    private static PeftPretrainedModel Attach(nn.Module module, PeftTunerModel peft, PretrainedModel? pretrained, SequenceClassificationModel? classifier, string adapterDirectory, string adapterName)
    {
        try
        {
            var loaded = peft.LoadAdapter(adapterDirectory, adapterName);
            module.eval();
            return new PeftPretrainedModel(module, peft, pretrained, classifier, loaded);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    // The saved head decides the number of labels; without one, the model config's (id2label / num_labels), else transformers' 2.
    private static int SavedLabelCount(string adapterDirectory, string modelPath)
    {
        var weightsPath = new[] { PeftFiles.SafetensorsWeights, PeftFiles.TorchWeights }.Select(f => Path.Combine(adapterDirectory, f)).FirstOrDefault(File.Exists);
        if (weightsPath is not null)
        {
            using var file = TensorFiles.Open(weightsPath);
            foreach (var head in PeftTaskTypes.ClassifierModuleNames)
            {
                var key = $"{PeftFiles.KeyPrefix}{head}.weight";
                if (file.Contains(key)) return checked((int)file.GetSpec(key).Shape[0]);
            }
        }
        var modelConfig = Path.Combine(modelPath, "config.json");
        if (File.Exists(modelConfig) && JsonNode.Parse(File.ReadAllText(modelConfig)) is JsonObject doc)
        {
            if (doc["id2label"] is JsonObject labels) return labels.Count;
            if (doc["num_labels"] is { } n) return ConfigValues.ReadInt(n, $"{modelConfig}: num_labels");
        }
        return 2;
    }

    /// <summary>Disposes the model.</summary>
    public void Dispose()
    {
        if (Pretrained is not null) Pretrained.Dispose();
        else Module.Dispose();
    }
}
