using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Heads;

/// <summary>
/// Python's <c>STATIC_TO_FLEX_HEAD_MAP</c> for the encoders in scope: a head saved from a transformers
/// class such as <c>BertForSequenceClassification</c> (<c>"name": null</c>, <c>"config": null</c>, keys like
/// <c>classifier.weight</c>) becomes the equivalent flex head, with its weights renamed to <c>heads.NAME.INDEX</c>.
/// </summary>
internal static class StaticHeadConversion
{
    private sealed record Mapping(string HeadType, int Layers, string? Activation, bool? UsePooler, (string Static, int Index)[] Renames);

    private static readonly Mapping s_bertClassification = new("classification", 1, null, true, [("classifier", 1)]);
    private static readonly Mapping s_robertaClassification = new("classification", 2, "tanh", false, [("classifier.dense", 1), ("classifier.out_proj", 4)]);
    private static readonly Mapping s_distilClassification = new("classification", 2, "relu", false, [("pre_classifier", 1), ("classifier", 4)]);
    private static readonly Mapping s_tagging = new("tagging", 1, null, null, [("classifier", 1)]);
    private static readonly Mapping s_qa = new("question_answering", 1, null, null, [("qa_outputs", 1)]);

    private static readonly Dictionary<string, Mapping> s_map = new(StringComparer.Ordinal)
    {
        ["BertForSequenceClassification"] = s_bertClassification,
        ["BertForTokenClassification"] = s_tagging,
        ["BertForQuestionAnswering"] = s_qa,
        ["RobertaForSequenceClassification"] = s_robertaClassification,
        ["RobertaForTokenClassification"] = s_tagging,
        ["RobertaForQuestionAnswering"] = s_qa,
        ["XLMRobertaForSequenceClassification"] = s_robertaClassification,
        ["XLMRobertaForTokenClassification"] = s_tagging,
        ["XLMRobertaForQuestionAnswering"] = s_qa,
        ["DistilBertForSequenceClassification"] = s_distilClassification,
        ["DistilBertForTokenClassification"] = s_tagging,
        ["DistilBertForQuestionAnswering"] = s_qa,
    };

    /// <summary>The flex head config and the renamed weights for a static head file.</summary>
    /// <exception cref="AdapterLoadException">The file's <c>model_class</c> has no flex equivalent here.</exception>
    public static (JsonObject Config, Dictionary<string, Tensor> Weights) Convert(HeadConfigFile file, IReadOnlyDictionary<string, Tensor> weights, string name)
    {
        var modelClass = file.ModelClass ?? "(none)";
        if (!s_map.TryGetValue(modelClass, out var mapping))
        {
            throw new AdapterLoadException(
                $"{HeadConfigFile.FileName} describes a static head of {modelClass}, which has no flex-head equivalent here; supported: {string.Join(", ", s_map.Keys.Order(StringComparer.Ordinal))}.");
        }

        var numLabels = file.Document["num_labels"] is JsonValue n ? ConfigValues.ReadInt(n, "num_labels") : InferLabels(weights, mapping);
        var config = new JsonObject
        {
            ["head_type"] = mapping.HeadType,
            ["num_labels"] = numLabels,
            ["layers"] = mapping.Layers,
            ["activation_function"] = mapping.Activation,
        };
        if (mapping.UsePooler is { } pooler) config["use_pooler"] = pooler;
        if (file.Document["label2id"] is JsonObject label2id) config["label2id"] = label2id.DeepClone();

        var renamed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in weights)
        {
            var target = key;
            foreach (var (prefix, index) in mapping.Renames)
            {
                var match = Regex.Match(key, $"^{Regex.Escape(prefix)}\\.(\\S+)$", RegexOptions.CultureInvariant);
                if (match.Success)
                {
                    target = $"heads.{name}.{index}.{match.Groups[1].Value}";
                    break;
                }
            }
            renamed[target] = tensor;
        }
        return (config, renamed);
    }

    private static int InferLabels(IReadOnlyDictionary<string, Tensor> weights, Mapping mapping)
    {
        var last = mapping.Renames[^1].Static + ".weight";
        return weights.TryGetValue(last, out var weight)
            ? (int)weight.shape[0]
            : throw new AdapterLoadException($"The static head has no num_labels and no '{last}' to infer it from.");
    }
}
