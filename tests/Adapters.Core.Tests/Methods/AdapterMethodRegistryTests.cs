using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Methods;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

/// <summary>
/// The method registry: every config Python names is built by exactly one method, each method's modules are found by
/// the key rules it declares and leave nothing behind when removed, and unions act as their members.
/// </summary>
public sealed class AdapterMethodRegistryTests
{
    public static TheoryData<string> Aliases() => [.. AdapterConfigMap.Names];

    [Theory]
    [MemberData(nameof(Aliases))]
    public void Every_alias_is_built_by_exactly_one_method(string alias)
    {
        var config = AdapterConfigMap.Get(alias);

        var accepting = AdapterMethodRegistry.Methods.Where(m => m.Accepts(config)).Select(m => m.Name).ToArray();

        Assert.Single(accepting);
    }

    [Theory]
    [MemberData(nameof(Aliases))]
    public void Every_parameter_an_adapter_adds_is_its_own_by_the_declared_keys_and_deleting_removes_them_all(string alias)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.PromptTokenizer = text => text.Select(c => (long)(c % 40) + 2).ToArray();
        var before = model.named_parameters().Select(p => p.name).ToHashSet();

        var config = AdapterConfigMap.Get(alias);
        // Compacter's default bottleneck (32 / 32 = 1) is not divisible by phm_dim 4 on the tiny model; Python refuses it too.
        if (config is BnConfig { PhmLayer: true }) config = config.Replace(new JsonObject { ["reduction_factor"] = 8 });
        model.AddAdapter("m", config);
        var added = model.named_parameters().Select(p => "bert." + p.name).Where(k => !before.Contains(k[5..])).ToHashSet();
        var owned = model.AdapterParameters("m").Select(p => p.Key).ToHashSet();
        model.DeleteAdapter("m");

        Assert.NotEmpty(added);
        Assert.Equal(added.Order(), owned.Order());
        Assert.Equal(before.Order(), model.named_parameters().Select(p => p.name).Order());
    }

    [Fact]
    public void Method_containers_are_declared_once()
    {
        var containers = AdapterMethodRegistry.Methods.SelectMany(m => m.WeightContainers).ToArray();
        var segments = AdapterMethodRegistry.Methods.SelectMany(m => m.ModulePathSegments).ToArray();

        Assert.Equal(containers.Length, containers.Distinct().Count());
        Assert.Equal(segments.Length, segments.Distinct().Count());
    }

    [Fact]
    public void A_union_with_vera_keeps_veras_shared_matrices_frozen_in_training_as_vera_alone_does()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("u", new ConfigUnion(new VeraConfig(), new SeqBnConfig()));

        model.TrainAdapter("u");

        var parameters = model.AdapterParameters("u").ToArray();
        Assert.All(parameters.Where(p => p.Key.Contains(".shared_parameters.", StringComparison.Ordinal)), p => Assert.False(p.Parameter.requires_grad));
        Assert.All(parameters.Where(p => !p.Key.Contains(".shared_parameters.", StringComparison.Ordinal)), p => Assert.True(p.Parameter.requires_grad));
        Assert.Contains(parameters, p => p.Key.Contains(".adapters.u.", StringComparison.Ordinal));
        Assert.Contains(parameters, p => p.Key.Contains(".loras.u.vera_D", StringComparison.Ordinal));
    }

    [Fact]
    public void A_union_merges_its_lora_member_and_refuses_lora_only_averaging_strategies()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("u", "lora|seq_bn");
        model.AddAdapter("v", "lora|seq_bn");
        using (no_grad())
            foreach (var (key, p) in model.AdapterParameters("u")) if (key.EndsWith(".lora_B", StringComparison.Ordinal)) p.add_(randn_like(p) * 0.1);
        model.SetActiveAdapters("u");
        var ids = TinyModels.InputIds();
        var unmerged = model.Forward(ids).LastHiddenState;
        var weightBefore = model.state_dict()["encoder.layer.0.attention.self.query.weight"].clone();

        model.MergeAdapter("u");

        Assert.False(TinyModels.Same(weightBefore, model.state_dict()["encoder.layer.0.attention.self.query.weight"]));
        Assert.True(allclose(unmerged, model.Forward(ids).LastHiddenState, 1e-5, 1e-5));
        var error = Assert.Throws<ArgumentException>(() => model.AverageAdapter("w", ["u", "v"], combineStrategy: Core.Composition.AdapterCombineStrategy.LoRALinearOnlyNegateB));
        Assert.Contains("only supported for LoRA", error.Message, StringComparison.Ordinal);
    }
}
