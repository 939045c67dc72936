using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft.Tuners;

/// <summary>PEFT tuners on a user module with Conv2d layers: LoRA as PEFT 0.14 computes it, and the methods that refuse.</summary>
public sealed class PeftConv2dTests
{
    /// <summary>A 3×3 stride-2 convolution, a 1×1 convolution and a linear head, called through <c>call</c>.</summary>
    private sealed class TinyConvNet : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d _conv;
        private readonly Conv2d _pointwise;
        private readonly Linear _head;

        public TinyConvNet() : base(nameof(TinyConvNet))
        {
            manual_seed(4);
            _conv = nn.Conv2d(3, 4, 3, stride: 2, padding: 1);
            _pointwise = nn.Conv2d(4, 5, 1);
            _head = nn.Linear(5 * 4 * 4, 2);
            register_module("conv", _conv);
            register_module("pointwise", _pointwise);
            register_module("head", _head);
        }

        protected override void RegisterComponents() { }

        public Conv2d Conv => _conv;

        public Conv2d Pointwise => _pointwise;

        public override Tensor forward(Tensor x) => _head.call(nn.functional.relu(_pointwise.call(nn.functional.relu(_conv.call(x)))).flatten(1));
    }

    private static PeftConfig Config(string type, string fields) => PeftConfig.Create(type, JsonNode.Parse(fields)!.AsObject());

    [Fact]
    public void LoRA_on_conv2d_equals_the_composed_kernel_merges_and_round_trips()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyConvNet();
        model.eval();
        manual_seed(9);
        var x = randn(2, 3, 8, 8);
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("default", Config("LORA", """{"r": 2, "lora_alpha": 3, "init_lora_weights": false, "target_modules": ["conv", "pointwise"]}"""));

        var shapes = peft.SavedTensors("default").ToDictionary(t => t.Key, t => t.Tensor.shape);
        Assert.Equal([2L, 3, 3, 3], shapes["base_model.model.conv.lora_A.weight"]);
        Assert.Equal([4L, 2, 1, 1], shapes["base_model.model.conv.lora_B.weight"]);
        Assert.Equal([2L, 4, 1, 1], shapes["base_model.model.pointwise.lora_A.weight"]);
        Assert.Equal([5L, 2, 1, 1], shapes["base_model.model.pointwise.lora_B.weight"]);

        // ΔW[o, i, h, w] = Σ_r B[o, r]·A[r, i, h, w] · alpha/r, written as an einsum, independent of PEFT's conv trick.
        var deltas = new Dictionary<Tensor, Tensor>();
        foreach (var (path, conv) in new[] { ("conv", model.Conv), ("pointwise", model.Pointwise) })
        {
            var a = model.named_parameters().First(p => p.name == $"{path}.lora_A.default.weight").parameter.detach();
            var b = model.named_parameters().First(p => p.name == $"{path}.lora_B.default.weight").parameter.detach();
            deltas[conv.weight!] = einsum("or,rihw->oihw", b.flatten(1), a) * (3.0 / 2);
        }
        Tensor adapted, manual, baseOut;
        using (no_grad())
        {
            adapted = model.call(x).clone();
            using (peft.DisableAdapters())
            {
                baseOut = model.call(x).clone();
                manual = PeftTestFolders.WithDeltas(deltas, () => model.call(x).clone());
            }
            Assert.False(allclose(adapted, baseOut, 1e-4, 1e-5));
            Assert.True(allclose(adapted, manual, 1e-5, 1e-6));
            peft.Merge();
            Assert.True(allclose(model.call(x), manual, 1e-5, 1e-6));
            peft.Unmerge();
            using (peft.DisableAdapters()) Assert.True(allclose(model.call(x), baseOut, 1e-5, 1e-6));
        }

        var dir = Directory.CreateTempSubdirectory("peft-conv2d-").FullName;
        peft.SaveAdapter(dir);
        using var fresh = new TinyConvNet();
        fresh.eval();
        var result = new PeftTunerModel(fresh).LoadAdapter(dir);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        using (no_grad()) Assert.True(allclose(fresh.call(x), adapted, 1e-6, 1e-7));
        using var weights = TensorFiles.Load(Path.Combine(dir, PeftFiles.SafetensorsWeights));
        Assert.Equal(4, weights.Count);
    }

    [Fact]
    public void Weighted_svd_of_conv2d_loras_factorises_the_flattened_kernel()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyConvNet();
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("a", Config("LORA", """{"r": 2, "lora_alpha": 2, "init_lora_weights": false, "target_modules": ["conv"]}"""));
        peft.AddAdapter("b", Config("LORA", """{"r": 2, "lora_alpha": 2, "init_lora_weights": false, "target_modules": ["conv"]}"""));

        peft.AddWeightedAdapter(["a", "b"], [1.0, 1.0], "svd", Adapters.Core.Peft.Tuners.Operations.LoraCombinationType.Svd, svdRank: 4);

        Tensor Param(string slot, string adapter) => model.named_parameters().First(p => p.name == $"conv.{slot}.{adapter}.weight").parameter.detach();
        var expected = einsum("or,rihw->oihw", Param("lora_B", "a").flatten(1), Param("lora_A", "a")) + einsum("or,rihw->oihw", Param("lora_B", "b").flatten(1), Param("lora_A", "b"));
        Assert.Equal([4L, 3, 3, 3], Param("lora_A", "svd").shape);
        Assert.Equal([4L, 4, 1, 1], Param("lora_B", "svd").shape);
        var combined = einsum("or,rihw->oihw", Param("lora_B", "svd").flatten(1), Param("lora_A", "svd"));
        Assert.True(allclose(combined, expected, 1e-4, 1e-5));
    }

    [Theory]
    [InlineData("LOHA", """{"r": 2, "target_modules": ["conv"]}""", "does not implement that layer type for LOHA yet")]
    [InlineData("LOKR", """{"r": 2, "target_modules": ["conv"]}""", "does not implement that layer type for LOKR yet")]
    [InlineData("OFT", """{"r": 2, "oft_block_size": 0, "target_modules": ["conv"]}""", "does not implement that layer type for OFT yet")]
    [InlineData("IA3", """{"target_modules": ["conv"], "feedforward_modules": []}""", "does not implement that layer type for IA3 yet")]
    [InlineData("BONE", """{"r": 2, "target_modules": ["conv"]}""", "Currently, only the following modules are supported: `torch.nn.Linear`.")]
    [InlineData("VERA", """{"r": 2, "target_modules": ["conv"]}""", "is not supported")]
    [InlineData("ADALORA", """{"init_r": 2, "target_modules": ["conv"], "inference_mode": true}""", "is not supported")]
    public void Methods_without_conv2d_refuse_it_saying_whose_limit_it_is(string type, string fields, string message)
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyConvNet();
        var peft = new PeftTunerModel(model);
        var error = Assert.Throws<AdapterConfigException>(() => peft.AddAdapter("default", Config(type, fields)));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains("conv", error.Message, StringComparison.Ordinal);
    }
}
