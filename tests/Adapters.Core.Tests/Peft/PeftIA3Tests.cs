using Adapters.Core.Configuration;
using Adapters.Core.Peft;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft;

public sealed class PeftIA3Tests
{
    [Fact]
    public void Feedforward_vectors_scale_the_input_and_the_others_the_output_including_bias()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert(seed: 2);
        manual_seed(8);
        var keyVector = rand(32, 1) + 0.5;
        var ffVector = rand(1, 64) + 0.5;
        var weights = new Dictionary<string, Tensor>();
        foreach (var layer in new[] { 0, 1 })
        {
            weights[$"base_model.model.encoder.layer.{layer}.attention.self.key.ia3_l"] = keyVector;
            weights[$"base_model.model.encoder.layer.{layer}.attention.self.value.ia3_l"] = ones(32, 1);
            weights[$"base_model.model.encoder.layer.{layer}.output.dense.ia3_l"] = ffVector;
        }
        var dir = PeftTestFolders.Write("""
            {"peft_type": "IA3", "target_modules": ["key", "value", "0.output.dense", "1.output.dense"], "feedforward_modules": ["output.dense"], "fan_in_fan_out": false}
            """, weights);
        var targets = model.GetPeftModuleTargets().ToDictionary(t => t.Path, t => t.Linear);
        var key = targets["encoder.layer.1.attention.self.key"];
        var output = targets["encoder.layer.1.output.dense"];
        using (no_grad())
        {
            // Non-zero biases, so that "bias scaled or not" is visible.
            key.bias!.uniform_(-1, 1);
            output.bias!.uniform_(-1, 1);
        }

        var result = model.LoadPeftAdapter(dir, "ia3", new PeftImportOptions { SetActive = true });

        Assert.Empty(result.UnexpectedKeys);
        using var _ = no_grad();
        var x32 = randn(2, 3, 32);
        var x64 = randn(2, 3, 64);
        Assert.True(TinyModels.Same(nn.functional.linear(x32, key.weight, key.bias) * keyVector.reshape(-1), key.call(x32)));
        Assert.True(TinyModels.Same(nn.functional.linear(x64 * ffVector.reshape(-1), output.weight, output.bias), output.call(x64)));
        Assert.False(TinyModels.Same(nn.functional.linear(x64, output.weight, output.bias) * ffVector.reshape(-1)[..32], output.call(x64)));

        // The feed-forward vector has no adapters equivalent; PEFT's format keeps it.
        Assert.Throws<AdapterConfigException>(() => model.EnsureAdaptersExpressible("ia3"));
        var (config, exported) = model.CreatePeftAdapter("ia3");
        Assert.Equal(["dense"], config.FeedforwardModules!.Names!);
        Assert.Equal(["key", "value", "0.output.dense", "1.output.dense"], config.TargetModules!.Names!);
        foreach (var (name, tensor) in weights) Assert.True(TinyModels.Same(tensor, exported[name]), name);
    }

    [Fact]
    public void Adapters_ia3_exports_with_alpha_folded_and_loads_back_identically()
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Bert(seed: 4);
        source.AddAdapter("ia", "ia3[init_weights='bert']", setActive: true);
        var ids = TinyModels.InputIds();
        Tensor expected;
        using (no_grad()) expected = source.Forward(ids).LastHiddenState;
        var dir = Directory.CreateTempSubdirectory("peft-ia3-").FullName;

        var config = source.SavePeftAdapter(dir, "ia");

        Assert.Equal("IA3", config.PeftType);
        Assert.Equal(["key", "value", "intermediate.dense"], config.TargetModules!.Names!);
        Assert.Empty(config.FeedforwardModules!.Names!);
        using var target = TinyModels.Bert(seed: 4);
        target.LoadPeftAdapter(dir, "ia", new PeftImportOptions { SetActive = true });
        using (no_grad()) Assert.True(TinyModels.Same(expected, target.Forward(ids).LastHiddenState));
        target.EnsureAdaptersExpressible("ia");
        Assert.True(target.GetAdapterConfig("ia") is LoRAConfig { CompositionMode: "scale", IntermediateLora: true, AttnMatrices: ["k", "v"] });
    }
}
