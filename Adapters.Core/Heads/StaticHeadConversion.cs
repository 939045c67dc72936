using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Heads;

/// <summary>
/// Python's <c>STATIC_TO_FLEX_HEAD_MAP</c> for the models in scope: a head saved from a transformers class such as
/// <c>BertForSequenceClassification</c> or <c>GPT2LMHeadModel</c> (<c>"name": null</c>, <c>"config": null</c>, keys like
/// <c>classifier.weight</c>, <c>score.weight</c>, <c>lm_head.weight</c>) becomes the equivalent flex head, with its
/// weights renamed to <c>heads.NAME.INDEX</c>. Decoder classifiers (<c>score</c>) and LM heads have no bias; an LM head
/// becomes a one-layer causal-LM head without activation or layer norm.
/// </summary>
internal static class StaticHeadConversion
{
    private sealed record Mapping(string HeadType, int Layers, string? Activation, bool? UsePooler, (string Static, int Index)[] Renames, bool Bias = true);

    private static readonly Mapping s_bertClassification = new("classification", 1, null, true, [("classifier", 1)]);
    private static readonly Mapping s_robertaClassification = new("classification", 2, "tanh", false, [("classifier.dense", 1), ("classifier.out_proj", 4)]);
    private static readonly Mapping s_distilClassification = new("classification", 2, "relu", false, [("pre_classifier", 1), ("classifier", 4)]);
    private static readonly Mapping s_tagging = new("tagging", 1, null, null, [("classifier", 1)]);
    private static readonly Mapping s_qa = new("question_answering", 1, null, null, [("qa_outputs", 1)]);
    private static readonly Mapping s_decoderClassification = new("classification", 1, null, false, [("score", 1)], Bias: false);
    private static readonly Mapping s_causalLm = new("causal_lm", 1, null, null, [("lm_head", 0)], Bias: false);

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
        ["GPT2ForSequenceClassification"] = s_decoderClassification,
        ["GPT2ForTokenClassification"] = s_tagging,
        ["GPT2ForQuestionAnswering"] = s_qa,
        ["GPT2LMHeadModel"] = s_causalLm,
        ["LlamaForSequenceClassification"] = s_decoderClassification,
        ["LlamaForCausalLM"] = s_causalLm,
        ["MistralForSequenceClassification"] = s_decoderClassification,
        ["MistralForCausalLM"] = s_causalLm,
        ["Qwen2ForSequenceClassification"] = s_decoderClassification,
        ["Qwen2ForCausalLM"] = s_causalLm,
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

        JsonObject config;
        if (mapping.HeadType == "causal_lm")
        {
            var decoder = LastWeight(weights, mapping);
            config = new JsonObject
            {
                ["head_type"] = mapping.HeadType,
                ["vocab_size"] = decoder.shape[0],
                ["embedding_size"] = decoder.shape[1],
                ["layers"] = mapping.Layers,
                ["activation_function"] = null,
                ["layer_norm"] = false,
                ["bias"] = false,
                ["shift_labels"] = true,
                ["label2id"] = null,
            };
        }
        else
        {
            var numLabels = file.Document["num_labels"] is JsonValue n ? ConfigValues.ReadInt(n, "num_labels") : (int)LastWeight(weights, mapping).shape[0];
            config = new JsonObject
            {
                ["head_type"] = mapping.HeadType,
                ["num_labels"] = numLabels,
                ["layers"] = mapping.Layers,
                ["activation_function"] = mapping.Activation,
            };
            if (mapping.UsePooler is { } pooler) config["use_pooler"] = pooler;
            if (!mapping.Bias) config["bias"] = false;
            if (file.Document["label2id"] is JsonObject label2id) config["label2id"] = label2id.DeepClone();
        }

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

    private static Tensor LastWeight(IReadOnlyDictionary<string, Tensor> weights, Mapping mapping)
    {
        var last = mapping.Renames[^1].Static + ".weight";
        return weights.TryGetValue(last, out var weight)
            ? weight
            : throw new AdapterLoadException($"The static head has no '{last}' to size the {mapping.HeadType} head from.");
    }
}
