using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Serialization;
using Adapters.Core.Training;
using Adapters.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft.Tuners;

/// <summary>AdaLoRA's rank allocator during training through <see cref="AdapterTrainer{TBatch}"/>, and its saved rank_pattern.</summary>
public sealed class AdaLoraTrainingTests
{
    private const int InitR = 6;
    private const int TargetR = 2;
    private const int TInit = 1;
    private const int TFinal = 2;
    private const int TotalStep = 8;

    private static readonly string[] s_paths =
        ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"];

    private static PeftConfig Config() => PeftConfig.Create("ADALORA", JsonNode.Parse($$"""
        {"init_r": {{InitR}}, "target_r": {{TargetR}}, "tinit": {{TInit}}, "tfinal": {{TFinal}}, "deltaT": 1, "total_step": {{TotalStep}},
         "beta1": 0.85, "beta2": 0.85, "orth_reg_weight": 0.5, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"], "task_type": "CAUSAL_LM"}
        """)!.AsObject());

    // PEFT's cubic budget schedule, written out for this config: the total rank after each step's allocation.
    private static long ExpectedBudgetAfter(long step)
    {
        long initial = InitR * s_paths.Length, target = TargetR * s_paths.Length;
        if (step <= TInit) return initial;
        if (step >= TotalStep - TFinal) return target;
        var remaining = 1.0 - (step - TInit) / (double)(TotalStep - TFinal - TInit);
        return (long)((initial - target) * remaining * remaining * remaining + target);
    }

    private static int KeptRanks(PeftTunerModel peft) => peft.Config("default").Document["rank_pattern"] is JsonObject pattern
        ? pattern.Sum(p => p.Value!.AsArray().Count(v => v!.GetValue<bool>()))
        : InitR * s_paths.Length;

    [Fact]
    public void Training_prunes_to_the_target_budget_on_peft_schedule_and_the_saved_folder_reloads_with_its_rank_pattern()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var folder = TestPaths.Fixture("python-goldens", "peft", "models", "llama");
        using var model = ModelFactory.Load(folder);
        manual_seed(11);
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("default", Config());
        model.Adapters.FreezeModel();
        peft.MarkOnlyAdapterTrainable("default");

        var kept = new List<int>();
        using var ids = tensor(new long[,] { { 5, 9, 13, 17, 21, 5, 9, 13, 17, 21 }, { 30, 31, 32, 33, 34, 30, 31, 32, 33, 34 } });
        var options = new AdapterTrainerOptions
        {
            LearningRate = 2e-2,
            MaxSteps = TotalStep,
            Schedule = LearningRateSchedule.Constant,
            RegularizationLoss = peft.AdaLoraOrthogonalRegularization,
            AfterOptimizerStep = step =>
            {
                peft.UpdateAndAllocate(step);
                kept.Add(KeptRanks(peft));
            },
        };
        using (var trainer = new AdapterTrainer<Tensor>(model.Adapters, [], batch => model.CausalLM!.Forward(batch, labels: batch).Loss!, options))
            trainer.Train([ids]);

        Assert.Equal(Enumerable.Range(0, TotalStep).Select(s => (int)ExpectedBudgetAfter(s)), kept);
        var pattern = peft.Config("default").Document["rank_pattern"]!.AsObject();
        Assert.Equal(s_paths.Select(p => p + ".lora_E"), pattern.Select(p => p.Key));
        // Pruned singular values are zero in the trained tensors, kept ones are not.
        foreach (var path in s_paths)
        {
            var e = model.Module.named_parameters().First(p => p.name == $"{path}.lora_E.default").parameter.detach().view(-1);
            var mask = pattern[path + ".lora_E"]!.AsArray().Select(v => v!.GetValue<bool>()).ToArray();
            for (var i = 0; i < InitR; i++) Assert.True(mask[i] == (e[i].item<float>() != 0), $"{path}.lora_E[{i}]");
        }

        // The orthogonality term is orth_reg_weight times the mean Frobenius distance of A·Aᵀ and Bᵀ·B from I.
        var distances = new List<double>();
        foreach (var slot in new[] { "lora_A", "lora_B" })
        {
            foreach (var path in s_paths)
            {
                var p = model.Module.named_parameters().First(n => n.name == $"{path}.{slot}.default").parameter.detach().to(float64);
                var product = slot == "lora_A" ? p.matmul(p.t()) : p.t().matmul(p);
                distances.Add((product - eye(InitR, dtype: float64)).square().sum().sqrt().item<double>());
            }
        }
        Assert.Equal(0.5 * distances.Average(), peft.AdaLoraOrthogonalRegularization().item<float>(), 4);

        model.Module.eval();
        Tensor expected;
        using (no_grad()) expected = model.CausalLM!.Forward(ids).Logits.clone();
        var dir = Directory.CreateTempSubdirectory("peft-adalora-").FullName;
        peft.SaveAdapter(dir);

        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftConfig.FileName)))!.AsObject();
        Assert.True(saved["inference_mode"]!.GetValue<bool>());
        Assert.Equal(pattern.ToJsonString(), saved["rank_pattern"]!.ToJsonString());
        using (var weights = TensorFiles.Load(Path.Combine(dir, PeftFiles.SafetensorsWeights)))
        {
            var ranks = s_paths.Select(p => weights[$"base_model.model.{p}.lora_E"].shape[0]).ToArray();
            Assert.Equal(TargetR * s_paths.Length, ranks.Sum());
            foreach (var (path, rank) in s_paths.Zip(ranks))
            {
                Assert.Equal([rank, 64L], weights[$"base_model.model.{path}.lora_A"].shape);
                Assert.Equal([64L, rank], weights[$"base_model.model.{path}.lora_B"].shape);
                Assert.Equal(pattern[path + ".lora_E"]!.AsArray().Count(v => v!.GetValue<bool>()), rank);
            }
        }

        using var fresh = ModelFactory.Load(folder);
        fresh.Module.eval();
        var reloaded = new PeftTunerModel(fresh);
        var result = reloaded.LoadAdapter(dir);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        using (no_grad()) Assert.True(allclose(expected, fresh.CausalLM!.Forward(ids).Logits, 1e-5, 1e-6));
        // A loaded (inference_mode) adapter has no allocator, as in PEFT.
        Assert.Throws<InvalidOperationException>(() => reloaded.UpdateAndAllocate(0));
    }

    [Fact]
    public void One_trainable_adalora_adapter_and_total_step_are_required()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyTree();
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("a", PeftConfig.Create("ADALORA", JsonNode.Parse("""{"init_r": 4, "target_r": 2, "target_modules": ["q"]}""")!.AsObject()));
        var second = Assert.Throws<AdapterConfigException>(() => peft.AddAdapter("b", PeftConfig.Create("ADALORA", JsonNode.Parse("""{"target_modules": ["v"]}""")!.AsObject())));
        Assert.Contains("supports only 1 trainable adapter", second.Message, StringComparison.Ordinal);
        peft.AddAdapter("c", PeftConfig.Create("ADALORA", JsonNode.Parse("""{"target_modules": ["v"], "inference_mode": true}""")!.AsObject()));
        Assert.Contains("total_step", Assert.Throws<InvalidOperationException>(() => peft.UpdateAndAllocate(0)).Message, StringComparison.Ordinal);
    }
}
