using System.Text.Json.Nodes;
using Adapters.Core.Composition;
using Adapters.Core.Configuration;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

/// <summary>
/// MTL-LoRA (adapters 1.2) with no Python golden: its config against Python's field names and defaults, its module
/// against the formula written out here, and per-task rows of a MultiTask setup against each task's adapter alone.
/// </summary>
public sealed class MTLLoRATests
{
    private const string Config = "mtl_lora[init_weights='bert', r=4, alpha=8, n_up_projection=3, intermediate_lora=True]";

    [Fact]
    public void The_config_writes_python_field_names_and_defaults_and_reads_back()
    {
        var config = Assert.IsType<MTLLoRAConfig>(AdapterConfig.Parse("mtl_lora"));
        var json = config.ToJson();

        // MTLLoRAConfig(LoRAConfig, MultiTaskConfig): LoRA's fields and defaults, architecture "mtl_lora", then its own three.
        Assert.Equal(
            ["architecture", "selfattn_lora", "intermediate_lora", "output_lora", "leave_out", "r", "alpha", "dropout", "attn_matrices",
             "composition_mode", "init_weights", "init_weights_seed", "use_gating", "use_dora", "vera_d", "vera_b", "dtype",
             "n_up_projection", "task_specific_matrix_type", "weights_sharpness"],
            json.Select(p => p.Key));
        Assert.Equal("mtl_lora", (string?)json["architecture"]);
        Assert.Equal(1L, (long)json["n_up_projection"]!);
        Assert.Equal("singular_values", (string?)json["task_specific_matrix_type"]);
        Assert.Equal(0.05, (double)json["weights_sharpness"]!);
        Assert.Equal(8L, (long)json["r"]!);
        Assert.Equal("lora", (string?)json["init_weights"]);

        var python = JsonNode.Parse("""
            {"architecture": "mtl_lora", "r": 16, "alpha": 32, "n_up_projection": 3, "task_specific_matrix_type": "linear", "weights_sharpness": 0.1}
            """)!.AsObject();
        var read = Assert.IsType<MTLLoRAConfig>(AdapterConfig.FromJson(python));
        Assert.Equal((16, 32, 3, "linear", 0.1), (read.R, read.Alpha, read.NUpProjection, read.TaskSpecificMatrixType, read.WeightsSharpness));
        Assert.Equal(read.ToJsonString(), Assert.IsType<MTLLoRAConfig>(AdapterConfig.FromJson(read.ToJson())).ToJsonString());
        var parsed = AdapterConfig.Parse("mtl_lora[r=16, alpha=32, n_up_projection=2, task_specific_matrix_type='linear', weights_sharpness=0.1]");
        Assert.Equal((read with { NUpProjection = 2 }).ToJsonString(), Assert.IsType<MTLLoRAConfig>(parsed).ToJsonString());
    }

    [Fact]
    public void The_module_computes_the_weighted_mixture_of_up_projections()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("t", Config);
        var query = model.Interface.Layers[0].Query!;
        var module = Assert.IsType<MTLLoRAModule>(query.Loras.Get<LoRALayer>("t"));
        using var _ = no_grad();
        var parameters = module.state_dict();
        parameters["weights"].copy_(tensor(new[] { 1.0f, 1.03f, 0.98f }));
        parameters["task_specific.values"].copy_(tensor(new[] { 0.5f, 1.5f, -1.0f, 2.0f }));
        var x = randn(2, 5, query.InFeatures);

        // δ = Σ_k w_k · x·Aᵀ·diag(values)·B_kᵀ / Σ_k w_k · alpha/r, w = exp(weights / 0.05), one product per up-projection.
        var a = parameters["lora_A"];
        var b = parameters["lora_B"];
        var w = (parameters["weights"] / 0.05).exp();
        var t = diag(parameters["task_specific.values"]);
        var expected = zeros(2, 5, query.OutFeatures);
        for (var k = 0; k < 3; k++) expected += w[k] * matmul(matmul(matmul(x, a.t()), t), b[k].t());
        expected = expected / w.sum() * (8.0 / 4);

        var actual = module.Contribution(null, x);
        Assert.True(allclose(expected, actual, 1e-5, 1e-6), $"max diff {(expected - actual).abs().max().item<float>()}");
        Assert.IsType<MTLLoRAConfig>(model.GetAdapterConfig("t"));
    }

    [Fact]
    public void Each_task_row_equals_a_plain_lora_with_the_shared_a_and_its_own_mixture_of_b()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        using var _ = no_grad();
        // Two tasks sharing A and B (copied from task 0), each with its own task matrix and mixing weights.
        model.AddAdapter("t0", Config);
        model.AddAdapter("t1", Config);
        model.AddAdapter("plain0", "lora[init_weights='bert', r=4, alpha=8, intermediate_lora=True]");
        model.AddAdapter("plain1", "lora[init_weights='bert', r=4, alpha=8, intermediate_lora=True]");
        manual_seed(5);
        foreach (var linear in model.Interface.Layers.SelectMany(l => new[] { l.Query!, l.Value!, l.Intermediate! }))
        {
            var task0 = linear.Loras.Get<LoRALayer>("t0")!.state_dict();
            var task1 = linear.Loras.Get<LoRALayer>("t1")!.state_dict();
            task1["lora_A"].copy_(task0["lora_A"]);
            task1["lora_B"].copy_(task0["lora_B"]);
            foreach (var (task, plain) in new[] { (task0, "plain0"), (task1, "plain1") })
            {
                task["weights"].copy_(1.0f + randn(3) * 0.02f);
                task["task_specific.values"].copy_(randn(4));
                // The same update as a plain LoRA: x·Aᵀ·T·B̄ᵀ = x·A'ᵀ·B'ᵀ with A' = A and B' = B̄·T, B̄ = Σ_k w_k B_k / Σ_k w_k.
                var w = (task["weights"] / 0.05).exp();
                var mixed = (w.view(-1, 1, 1) * task["lora_B"]).sum(0L) / w.sum();
                var target = linear.Loras.Get<LoRALayer>(plain)!.state_dict();
                target["lora_A"].copy_(task["lora_A"]);
                target["lora_B"].copy_(matmul(mixed, diag(task["task_specific.values"])));
            }
        }
        var ids = TinyModels.InputIds(batch: 3);
        model.SetActiveAdapters("plain0");
        var plainTask0 = model.Forward(ids).LastHiddenState;
        model.SetActiveAdapters("plain1");
        var plainTask1 = model.Forward(ids).LastHiddenState;
        Assert.False(allclose(plainTask0, plainTask1, 1e-4, 1e-4));

        model.SetActiveAdapters(new MultiTask("t0", "t1"));
        Tensor routed;
        using (model.UseTaskIds(tensor(new long[] { 1, 0, 1 })))
            routed = model.Forward(ids).LastHiddenState;

        Assert.True(allclose(plainTask1[0], routed[0], 1e-5, 1e-5));
        Assert.True(allclose(plainTask0[1], routed[1], 1e-5, 1e-5));
        Assert.True(allclose(plainTask1[2], routed[2], 1e-5, 1e-5));
    }

    [Fact]
    public void Mtl_lora_is_refused_where_python_cannot_build_or_merge_it()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        Assert.Throws<AdapterConfigException>(() => model.AddAdapter("s", "mtl_lora[composition_mode='scale', r=1]"));
        Assert.Throws<AdapterConfigException>(() => model.AddAdapter("v", "mtl_lora[task_specific_matrix_type='diagonal']"));
        model.AddAdapter("t", "mtl_lora");
        Assert.Contains("MTLLoRAConfig) cannot be merged", Assert.Throws<InvalidOperationException>(() => model.MergeAdapter("t")).Message, StringComparison.Ordinal);
    }
}
