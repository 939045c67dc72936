using Adapters.Core.Models;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Peft.Tuners.Operations;
using Adapters.Core.Serialization;
using Adapters.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft.Tuners;

/// <summary>
/// <c>add_weighted_adapter</c> on two LoRA folders written by <c>peft</c> 0.14 (plain LoRA, s = 8/4 = 2, and rsLoRA,
/// s = 8/√4 = 4, both r = 4 on q_proj/v_proj or c_attn), checked against PEFT's formulas computed here from the files.
/// </summary>
public sealed class LoraWeightedAdapterTests
{
    private static readonly Dictionary<string, double> s_scaling = new() { ["lora"] = 2.0, ["lora_rslora"] = 4.0 };

    private static (PretrainedModel Model, PeftTunerModel Peft) LoadBoth(string modelName)
    {
        var root = TestPaths.Fixture("python-goldens", "peft");
        var model = ModelFactory.Load(Path.Combine(root, "models", modelName));
        model.Module.eval();
        var peft = new PeftTunerModel(model);
        peft.LoadAdapter(Path.Combine(root, modelName, "lora", "adapter"), "lora");
        peft.LoadAdapter(Path.Combine(root, modelName, "lora_rslora", "adapter"), "lora_rslora");
        return (model, peft);
    }

    // The file tensors of a golden folder by layer path: (A, B).
    private static Dictionary<string, (Tensor A, Tensor B)> FileFactors(string modelName, string method)
    {
        var path = TestPaths.Fixture("python-goldens", "peft", modelName, method, "adapter", PeftFiles.SafetensorsWeights);
        var weights = TensorFiles.Load(path);
        return weights.Keys.Where(k => k.EndsWith(".lora_A.weight", StringComparison.Ordinal))
            .ToDictionary(k => k[PeftFiles.KeyPrefix.Length..^".lora_A.weight".Length],
                k => (weights[k].clone(), weights[k.Replace(".lora_A.", ".lora_B.", StringComparison.Ordinal)].clone()));
    }

    private static Tensor Parameter(PeftTunerModel peft, string path, string slot, string adapter) =>
        peft.Model.named_parameters().First(p => p.name == $"{path}.{slot}.{adapter}.weight").parameter.detach();

    private static Tensor Ids() => tensor(new long[,] { { 1, 5, 9, 3, 7, 2 } });

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void Linear_combines_the_factors_with_square_roots_of_weight_times_scaling(string modelName)
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var (model, peft) = LoadBoth(modelName);
        using var _ = model;
        var plain = FileFactors(modelName, "lora");
        var rs = FileFactors(modelName, "lora_rslora");

        peft.AddWeightedAdapter(["lora", "lora_rslora"], [0.7, 0.3], "mixed", LoraCombinationType.Linear);

        var config = peft.Config("mixed");
        Assert.Equal(4, config.Int("r", 0));
        Assert.Equal(4, config.Double("lora_alpha", 0));
        Assert.False(config.Bool("use_rslora", true));
        Assert.Equal(plain.Keys.Order(StringComparer.Ordinal), peft.LayersOf("mixed").Select(l => l.Base.Path).Order(StringComparer.Ordinal));
        var deltas = new Dictionary<Tensor, Tensor>();
        foreach (var layer in peft.LayersOf("mixed"))
        {
            var (a1, b1) = plain[layer.Base.Path];
            var (a2, b2) = rs[layer.Base.Path];
            var expectedA = a1 * Math.Sqrt(0.7 * 2) + a2 * Math.Sqrt(0.3 * 4);
            var expectedB = b1 * Math.Sqrt(0.7 * 2) + b2 * Math.Sqrt(0.3 * 4);
            Assert.True(allclose(expectedA, Parameter(peft, layer.Base.Path, "lora_A", "mixed"), 1e-5, 1e-7), layer.Base.Path);
            Assert.True(allclose(expectedB, Parameter(peft, layer.Base.Path, "lora_B", "mixed"), 1e-5, 1e-7), layer.Base.Path);
            // The new adapter's scaling is r / r = 1.
            var delta = expectedB.matmul(expectedA);
            deltas[layer.Base.Weight] = layer.Base.FanInFanOut ? delta.t() : delta;
        }
        peft.SetAdapter("mixed");
        using (no_grad())
        {
            var adapted = model.CausalLM!.Forward(Ids()).Logits.clone();
            Tensor manual;
            using (peft.DisableAdapters()) manual = PeftTestFolders.WithDeltas(deltas, () => model.CausalLM!.Forward(Ids()).Logits.clone());
            Assert.True(allclose(adapted, manual, 1e-4, 1e-5));
        }
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void Cat_stacks_the_ranks_and_with_unit_weights_equals_both_adapters_active(string modelName)
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var (model, peft) = LoadBoth(modelName);
        using var _ = model;
        var plain = FileFactors(modelName, "lora");
        var rs = FileFactors(modelName, "lora_rslora");

        peft.AddWeightedAdapter(["lora", "lora_rslora"], [1.0, 1.0], "cat", LoraCombinationType.Cat);

        Assert.Equal(8, peft.Config("cat").Int("r", 0));
        foreach (var layer in peft.LayersOf("cat"))
        {
            var a = Parameter(peft, layer.Base.Path, "lora_A", "cat");
            var b = Parameter(peft, layer.Base.Path, "lora_B", "cat");
            Assert.True(allclose(a[..4], plain[layer.Base.Path].A * 2.0, 1e-6, 1e-8));
            Assert.True(allclose(a[4..], rs[layer.Base.Path].A * 4.0, 1e-6, 1e-8));
            Assert.True(allclose(b[.., ..4], plain[layer.Base.Path].B) && allclose(b[.., 4..], rs[layer.Base.Path].B));
        }
        using (no_grad())
        {
            peft.SetAdapter("lora", "lora_rslora");
            var both = model.CausalLM!.Forward(Ids()).Logits.clone();
            peft.SetAdapter("cat");
            Assert.True(allclose(model.CausalLM!.Forward(Ids()).Logits, both, 1e-4, 1e-5));
        }
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void Svd_is_the_truncated_svd_of_the_weighted_deltas_scaled_twice_as_peft_014(string modelName)
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var (model, peft) = LoadBoth(modelName);
        using var _ = model;
        var plain = FileFactors(modelName, "lora");
        var rs = FileFactors(modelName, "lora_rslora");
        var weights = new[] { 0.5, 1.5 };

        // Rank 8 holds both rank-4 updates: the SVD reproduces their weighted sum exactly.
        peft.AddWeightedAdapter(["lora", "lora_rslora"], weights, "full", LoraCombinationType.Svd, svdRank: 8);
        // Rank 2 (default would be 4): the best rank-2 approximation, whose error is the discarded singular values.
        peft.AddWeightedAdapter(["lora", "lora_rslora"], weights, "low", LoraCombinationType.Svd, svdRank: 2);
        peft.AddWeightedAdapter(["lora", "lora_rslora"], weights, "clamped", LoraCombinationType.Svd, svdRank: 2, svdClamp: 0.9);

        Assert.Equal(8, peft.Config("full").Int("r", 0));
        Assert.Equal(2, peft.Config("low").Int("lora_alpha", 0));
        foreach (var layer in peft.LayersOf("full"))
        {
            var path = layer.Base.Path;
            var (a1, b1) = plain[path];
            var (a2, b2) = rs[path];
            // get_delta_weight already carries s; PEFT 0.14 multiplies by w·s on top.
            var expected = b1.matmul(a1) * 2.0 * (weights[0] * 2.0) + b2.matmul(a2) * 4.0 * (weights[1] * 4.0);
            var full = Parameter(peft, path, "lora_B", "full").matmul(Parameter(peft, path, "lora_A", "full"));
            Assert.True(allclose(full, expected, 1e-4, 1e-5), $"{path}: rank-8 SVD differs from the weighted sum");

            var low = Parameter(peft, path, "lora_B", "low").matmul(Parameter(peft, path, "lora_A", "low"));
            var singular = linalg.svdvals(expected.to(float64));
            var discarded = singular[2..].square().sum().sqrt().item<double>();
            var error = linalg.norm(low.to(float64) - expected.to(float64)).item<double>();
            Assert.True(Math.Abs(error - discarded) <= 1e-4 * Math.Max(1, discarded), $"{path}: rank-2 error {error} vs discarded {discarded}");

            var lowA = Parameter(peft, path, "lora_A", "low");
            var lowB = Parameter(peft, path, "lora_B", "low");
            var high = cat([lowB.flatten(), lowA.flatten()]).quantile(tensor(0.9f)).item<float>();
            var clampedA = Parameter(peft, path, "lora_A", "clamped");
            var clampedB = Parameter(peft, path, "lora_B", "clamped");
            Assert.True(allclose(clampedA, lowA.clamp(-high, high)) && allclose(clampedB, lowB.clamp(-high, high)), $"{path}: clamp");
            Assert.False(allclose(clampedA, lowA) && allclose(clampedB, lowB), $"{path}: the 0.9 quantile clamps something");
        }
    }

    [Fact]
    public void Refusals_and_no_ops_follow_peft()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyTree();
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("r2", PeftConfig.Create("LORA", System.Text.Json.Nodes.JsonNode.Parse("""{"r": 2, "target_modules": ["q"]}""")!.AsObject()));
        peft.AddAdapter("r4", PeftConfig.Create("LORA", System.Text.Json.Nodes.JsonNode.Parse("""{"r": 4, "target_modules": ["v"]}""")!.AsObject()));
        peft.AddAdapter("regex", PeftConfig.Create("LORA", System.Text.Json.Nodes.JsonNode.Parse("""{"r": 2, "target_modules": "blocks\\.0\\.ff"}""")!.AsObject()));
        peft.AddAdapter("ia3", PeftConfig.Create("IA3", System.Text.Json.Nodes.JsonNode.Parse("""{"target_modules": ["ff"], "feedforward_modules": ["ff"]}""")!.AsObject()));

        var sameR = Assert.Throws<ArgumentException>(() => peft.AddWeightedAdapter(["r2", "r4"], [1, 1], "x", LoraCombinationType.Linear));
        Assert.Contains("All adapters must have the same r value", sameR.Message, StringComparison.Ordinal);
        var mixed = Assert.Throws<ArgumentException>(() => peft.AddWeightedAdapter(["r2", "regex"], [1, 1], "x", LoraCombinationType.Cat));
        Assert.Contains("same target modules type", mixed.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => peft.AddWeightedAdapter(["r2", "nope"], [1, 1], "x"));
        Assert.Contains("LoRA adapters only", Assert.Throws<ArgumentException>(() => peft.AddWeightedAdapter(["r2", "ia3"], [1, 1], "x")).Message, StringComparison.Ordinal);
        Assert.False(peft.Configs.ContainsKey("x"));

        // cat over different ranks and targets: the union of targets, the sum of ranks; where only one adapter sits the rest stays zero.
        peft.AddWeightedAdapter(["r2", "r4"], [1, 1], "x", LoraCombinationType.Cat);
        Assert.Equal(["q", "v"], peft.Config("x").Selector("target_modules")!.Names);
        Assert.Equal(6, peft.Config("x").Int("r", 0));
        var qA = Parameter(peft, "blocks.0.q", "lora_A", "x");
        Assert.Equal([6L, 8L], qA.shape);
        Assert.Equal(0, qA[2..].abs().sum().item<float>());
        Assert.NotEqual(0, qA[..2].abs().sum().item<float>());

        // One adapter: always linear, whatever is asked; an existing name: nothing happens.
        peft.AddWeightedAdapter(["r4"], [4.0], "single", LoraCombinationType.Cat);
        Assert.Equal(4, peft.Config("single").Int("r", 0));
        var before = Parameter(peft, "blocks.1.v", "lora_A", "single").clone();
        peft.AddWeightedAdapter(["r2"], [1.0], "single", LoraCombinationType.Svd);
        Assert.Equal(4, peft.Config("single").Int("r", 0));
        Assert.True(Parameter(peft, "blocks.1.v", "lora_A", "single").allclose(before, 0, 0));
    }
}
