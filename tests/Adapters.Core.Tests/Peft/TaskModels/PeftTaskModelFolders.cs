using System.Text.Json.Nodes;
using Adapters.Core.Models;
using Adapters.Core.Models.SequenceClassification;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using Adapters.Testing;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft.TaskModels;

/// <summary>
/// Makes the folders of fixtures/peft-task-models the way a user makes them with PEFT: <c>get_peft_model</c> on the task
/// model with a <c>LoraConfig</c> (PEFT 0.14's fields, one folder with PEFT 0.18's), every trainable parameter set to
/// N(0,1)·0.1 from a seeded generator (name order) in place of training, then <c>save_pretrained</c>.
/// <see cref="PeftTaskModelFolderTests"/> regenerates them and compares with the committed files.
/// </summary>
internal static class PeftTaskModelFolders
{
    public const string BertSequenceClassification = "bert-seq-cls-lora";
    public const string Gpt2SequenceClassification = "gpt2-seq-cls-lora";
    public const string Gpt2CausalLMBin = "gpt2-causal-lm-lora-bin";

    public static string Root => TestPaths.Fixture("peft-task-models");

    /// <summary>The tiny base model folders (python goldens of peft 0.14: BertModel, GPT2LMHeadModel).</summary>
    public static string BaseModel(string model) => TestPaths.Fixture("python-goldens", "peft", "models", model);

    public static int[][] InputIds => [[5, 17, 42, 8, 99, 23, 3], [7, 64, 11, 29, 50, 0, 0]];

    public static int[][] AttentionMask => [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0]];

    /// <summary>Writes the three folders under <paramref name="root"/>.</summary>
    public static void WriteAll(string root)
    {
        // BertForSequenceClassification, 3 labels, PEFT's default BERT targets written out.
        using (var bert = SequenceClassificationModels.Load(BaseModel("bert"), numLabels: 3))
        {
            Write(bert, Lora(PeftTaskTypes.SequenceClassification, "models/bert", r: 8, alpha: 16, dropout: 0.1, fanInFanOut: false, "query", "value"),
                Path.Combine(root, BertSequenceClassification), seed: 1501, safetensors: true);
        }
        // GPT2ForSequenceClassification, 2 labels, written by a newer PEFT (0.18 fields and peft_version).
        using (var gpt2 = SequenceClassificationModels.Load(BaseModel("gpt2"), numLabels: 2))
        {
            var config = Lora(PeftTaskTypes.SequenceClassification, "models/gpt2", r: 8, alpha: 16, dropout: 0.0, fanInFanOut: true, "c_attn");
            config["alora_invocation_tokens"] = null;
            config["arrow_config"] = null;
            config["corda_config"] = null;
            config["ensure_weight_tying"] = false;
            config["peft_version"] = "0.18.0";
            config["qalora_group_size"] = 16;
            config["target_parameters"] = null;
            config["trainable_token_indices"] = null;
            config["use_qalora"] = false;
            Write(gpt2, config, Path.Combine(root, Gpt2SequenceClassification), seed: 1502, safetensors: true);
        }
        // GPT2LMHeadModel, LoRA on c_attn and every c_proj (attention and MLP: PEFT matches list entries as suffixes), .bin.
        using (var lm = ModelFactory.Load(BaseModel("gpt2")))
        {
            Write(lm.Module, Lora(PeftTaskTypes.CausalLM, "models/gpt2", r: 4, alpha: 8, dropout: 0.05, fanInFanOut: true, "c_attn", "c_proj"),
                Path.Combine(root, Gpt2CausalLMBin), seed: 1503, safetensors: false, modelType: "gpt2");
        }
    }

    private static void Write(SequenceClassificationModel model, JsonObject config, string directory, int seed, bool safetensors) =>
        Write(model, config, directory, seed, safetensors, model.ModelType);

    private static void Write(nn.Module model, JsonObject config, string directory, int seed, bool safetensors, string modelType)
    {
        var peft = new PeftTunerModel(model, modelType);
        peft.AddAdapter("default", PeftConfig.Create("LORA", config));
        peft.MarkOnlyAdapterTrainable("default");
        // Stands in for training: every trainable tensor (LoRA matrices, the head's copy) drawn from one seeded
        // generator, so the folders do not depend on torch's global RNG, which tests running in parallel share.
        var generator = new Generator((ulong)seed);
        using (no_grad())
        {
            foreach (var (_, p) in model.named_parameters().Where(p => p.parameter.requires_grad).OrderBy(p => p.name, StringComparer.Ordinal))
                p.copy_(randn(p.shape, p.dtype, generator: generator) * 0.1);
        }
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        peft.SaveAdapter(directory, safeSerialization: safetensors);
    }

    /// <summary>A <c>LoraConfig(...)</c> as PEFT 0.14's <c>to_dict()</c> has it before saving (every field, defaults included).</summary>
    private static JsonObject Lora(string taskType, string baseModel, int r, int alpha, double dropout, bool fanInFanOut, params string[] targets) => new()
    {
        ["alpha_pattern"] = new JsonObject(),
        ["auto_mapping"] = null,
        ["base_model_name_or_path"] = baseModel,
        ["bias"] = "none",
        ["eva_config"] = null,
        ["exclude_modules"] = null,
        ["fan_in_fan_out"] = fanInFanOut,
        ["inference_mode"] = false,
        ["init_lora_weights"] = true,
        ["layer_replication"] = null,
        ["layers_pattern"] = null,
        ["layers_to_transform"] = null,
        ["loftq_config"] = new JsonObject(),
        ["lora_alpha"] = alpha,
        ["lora_bias"] = false,
        ["lora_dropout"] = dropout,
        ["megatron_config"] = null,
        ["megatron_core"] = "megatron.core",
        ["modules_to_save"] = null,
        ["peft_type"] = "LORA",
        ["r"] = r,
        ["rank_pattern"] = new JsonObject(),
        ["revision"] = null,
        ["target_modules"] = new JsonArray(targets.Select(t => (JsonNode?)t).ToArray()),
        ["task_type"] = taskType,
        ["use_dora"] = false,
        ["use_rslora"] = false,
    };
}
