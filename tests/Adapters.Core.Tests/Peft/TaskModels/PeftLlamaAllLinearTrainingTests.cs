using System.Text.Json.Nodes;
using Adapters.Core.Models;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Serialization;
using Adapters.Core.Training;
using Adapters.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft.TaskModels;

/// <summary>
/// A LoRA on every linear layer of a tiny Llama, trained here with <see cref="AdapterTrainer{TBatch}"/>, saved as a PEFT
/// folder: keys and config as PEFT lays them out, and the folder reloads onto a fresh model with the same outputs.
/// </summary>
public sealed class PeftLlamaAllLinearTrainingTests
{
    private static string Llama => TestPaths.Fixture("python-goldens", "peft", "models", "llama");

    [Fact]
    public void TrainedAllLinearLoraIsSavedInPeftsLayoutAndReloadsWithTheSameOutputs()
    {
        TorchRuntime.Initialize();
        var temp = Directory.CreateTempSubdirectory("peft-llama-").FullName;
        try
        {
            using var model = ModelFactory.Load(Llama);
            var peft = new PeftTunerModel(model);
            peft.AddAdapter("default", PeftConfig.Create("LORA", new JsonObject
            {
                ["r"] = 4,
                ["lora_alpha"] = 8,
                ["target_modules"] = "all-linear",
                ["task_type"] = PeftTaskTypes.CausalLM,
            }));
            model.Adapters.FreezeModel();
            peft.MarkOnlyAdapterTrainable("default");
            var baseWeight = model.Module.named_parameters().Single(p => p.name == "model.layers.0.self_attn.q_proj.weight").parameter.detach().clone();

            using var ids = tensor(new long[] { 5, 17, 42, 8, 99, 23, 3, 7, 64, 11, 29, 50, 61, 12 }, [2, 7]);
            model.Module.train();
            using var trainer = new AdapterTrainer<Tensor>(model.Adapters, [], batch => model.CausalLM!.Forward(batch, labels: batch).Loss!,
                new AdapterTrainerOptions { LearningRate = 1e-2, MaxSteps = 6, Schedule = LearningRateSchedule.Constant });
            // 7 projections × 2 layers, each A (4 × in) + B (out × 4): q/k/v/o 64→64, gate/up 64→128, down 128→64.
            Assert.Equal(2 * (4 * (4 * 64 + 64 * 4) + 2 * (4 * 64 + 128 * 4) + (4 * 128 + 64 * 4)), trainer.TrainableParameterCount);
            var result = trainer.Train([ids]);
            Assert.Equal(6, result.GlobalStep);
            Assert.True(result.Losses[^1] < result.Losses[0], $"loss did not fall: {string.Join(", ", result.Losses)}");
            Assert.True(baseWeight.allclose(model.Module.named_parameters().Single(p => p.name == "model.layers.0.self_attn.q_proj.weight").parameter, 0, 0));

            model.Module.eval();
            Tensor trained;
            using (no_grad()) trained = model.CausalLM!.Forward(ids).Logits;
            peft.SaveAdapter(temp, baseModelNameOrPath: "models/llama");

            // PEFT's layout: base_model.model.<LlamaForCausalLM path>.lora_A|lora_B.weight, no adapter name, no lm_head.
            var modules = new[] { "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj" };
            var expectedKeys = (from layer in new[] { 0, 1 }
                                from module in modules
                                from matrix in new[] { "lora_A", "lora_B" }
                                select $"base_model.model.model.layers.{layer}.{module}.{matrix}.weight").Order(StringComparer.Ordinal);
            using (var file = TensorFiles.Open(Path.Combine(temp, PeftFiles.SafetensorsWeights)))
            {
                Assert.Equal(expectedKeys, file.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
                Assert.Equal(new long[] { 4, 128 }, file.GetSpec("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight").Shape);
                Assert.Equal(new long[] { 128, 4 }, file.GetSpec("base_model.model.model.layers.1.mlp.up_proj.lora_B.weight").Shape);
            }
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(temp, PeftConfig.FileName)))!.AsObject();
            Assert.Equal("LORA", (string?)config["peft_type"]);
            Assert.Equal("CAUSAL_LM", (string?)config["task_type"]);
            Assert.Equal("models/llama", (string?)config["base_model_name_or_path"]);
            Assert.Equal(4, (int)config["r"]!);
            Assert.Equal(8, (int)config["lora_alpha"]!);
            Assert.True((bool)config["inference_mode"]!);
            // "all-linear" is saved as the names it resolved to (PEFT writes the set as a list).
            Assert.Equal(["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"],
                config["target_modules"]!.AsArray().Select(n => (string)n!).Order(StringComparer.Ordinal));
            // Every field LoraConfig.to_dict() writes in PEFT 0.14, and nothing else.
            Assert.Equal(
                ["alpha_pattern", "auto_mapping", "base_model_name_or_path", "bias", "eva_config", "exclude_modules", "fan_in_fan_out",
                 "inference_mode", "init_lora_weights", "layer_replication", "layers_pattern", "layers_to_transform", "loftq_config",
                 "lora_alpha", "lora_bias", "lora_dropout", "megatron_config", "megatron_core", "modules_to_save", "peft_type", "r",
                 "rank_pattern", "revision", "target_modules", "task_type", "use_dora", "use_rslora"],
                config.Select(p => p.Key));

            using var reloaded = PeftPretrainedModel.Load(Llama, temp);
            Assert.Empty(reloaded.Loaded.MissingKeys);
            Assert.Empty(reloaded.Loaded.UnexpectedKeys);
            Tensor again;
            using (no_grad()) again = reloaded.Pretrained!.CausalLM!.Forward(ids).Logits;
            Assert.True(trained.allclose(again, 0, 0), $"max abs difference {(trained - again).abs().max().item<float>()}");
            using (no_grad())
            {
                using var _ = reloaded.Peft.DisableAdapters();
                Assert.False(trained.allclose(reloaded.Pretrained.CausalLM.Forward(ids).Logits, 1e-4, 1e-4));
            }
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }
}
