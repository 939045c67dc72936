using Adapters.Core.Methods;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Models;
using Adapters.Core.Peft;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using Adapters.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft;

/// <summary>
/// The real PEFT IA3 adapter for bigscience/mt0-large (MANIFEST B4) on a plugin-interface model that has mt0-large's
/// module names and shapes (d_model 1024, 24 + 24 blocks, wi_1 1024→2816), proving the key mapping beyond BERT.
/// </summary>
public sealed class Mt0PluginModelTests
{
    private const int Blocks = 24;
    private const int Model = 1024;
    private const int FeedForward = 2816;

    private sealed class Mt0LikeModel : AdapterModel
    {
        private readonly List<AdapterLayerInterface> _layers = [];

        public Mt0LikeModel() : base(nameof(Mt0LikeModel))
        {
            register_module("encoder", Stack(decoder: false));
            register_module("decoder", Stack(decoder: true));
            RegisterAdapterContainers();
        }

        public override string ModelClassName => "MT5ForConditionalGeneration";

        protected override AdapterModelInterface CreateInterface() => new("mt5", "transformer", Model, _layers);

        protected override void RegisterComponents() { }

        private AdapterModuleDict Stack(bool decoder)
        {
            var blocks = new AdapterModuleDict();
            for (var i = 0; i < Blocks; i++)
            {
                var index = decoder ? Blocks + i : i;
                AdaptableLinear Linear(long inFeatures, long outFeatures, LoRALocation location) =>
                    new(inFeatures, outFeatures, false, Setup, index, location);
                var k = Linear(Model, Model, LoRALocation.Key);
                var v = Linear(Model, Model, LoRALocation.Value);
                var wi1 = Linear(Model, FeedForward, LoRALocation.Intermediate);
                var layer = new AdapterModuleDict();
                layer.Add("0", AdapterModuleDict.Of(("SelfAttention", AdapterModuleDict.Of(("k", k), ("v", v)))));
                _layers.Add(new AdapterLayerInterface(index, null, k, v, wi1, null, null, null));
                if (decoder)
                {
                    var crossK = Linear(Model, Model, LoRALocation.Key);
                    var crossV = Linear(Model, Model, LoRALocation.Value);
                    layer.Add("1", AdapterModuleDict.Of(("EncDecAttention", AdapterModuleDict.Of(("k", crossK), ("v", crossV)))));
                    _layers.Add(new AdapterLayerInterface(index, null, crossK, crossV, null, null, null, null));
                }
                layer.Add(decoder ? "2" : "1", AdapterModuleDict.Of(("DenseReluDense", AdapterModuleDict.Of(("wi_1", wi1)))));
                blocks.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture), AdapterModuleDict.Of(("layer", layer)));
            }
            return AdapterModuleDict.Of(("block", blocks));
        }
    }

    [Fact]
    public void Real_mt0_large_ia3_adapter_loads_with_no_unexpected_keys_into_the_right_modules()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var folder = TestPaths.Fixture("tensors", "huggingface__peft", "examples", "conditional_generation", "bigscience", "mt0-large_IA3_SEQ_2_SEQ_LM");
        using var model = new Mt0LikeModel();
        using var file = TensorFiles.Load(Path.Combine(folder, "adapter_model.bin"));

        var result = model.LoadPeftAdapter(folder, "mt0", new PeftImportOptions { SetActive = true });

        Assert.Empty(result.UnexpectedKeys);
        var state = model.GetAdapterStateDict("mt0");
        Assert.Equal(192, state.Count);
        foreach (var (peftKey, ourKey) in new[]
        {
            ("encoder.block.0.layer.0.SelfAttention.k", "encoder.block.0.layer.0.SelfAttention.k"),
            ("encoder.block.23.layer.1.DenseReluDense.wi_1", "encoder.block.23.layer.1.DenseReluDense.wi_1"),
            ("decoder.block.5.layer.1.EncDecAttention.v", "decoder.block.5.layer.1.EncDecAttention.v"),
            ("decoder.block.17.layer.0.SelfAttention.v", "decoder.block.17.layer.0.SelfAttention.v"),
            ("decoder.block.23.layer.2.DenseReluDense.wi_1", "decoder.block.23.layer.2.DenseReluDense.wi_1"),
        })
        {
            var expected = file[$"base_model.model.{peftKey}.ia3_l"];
            Assert.True(TinyModels.Same(expected, state[$"transformer.{ourKey}.loras.mt0.lora_B"]), peftKey);
            Assert.False(eq(expected, 1.0f).all().item<bool>(), $"{peftKey} is trained, not the ones init");
        }

        // feedforward_modules is empty, so every vector scales its layer's output.
        var crossV = model.GetPeftModuleTargets().Single(t => t.Path == "decoder.block.5.layer.1.EncDecAttention.v").Linear;
        using var _ = no_grad();
        var x = randn(1, 2, Model);
        var vector = file["base_model.model.decoder.block.5.layer.1.EncDecAttention.v.ia3_l"].reshape(-1);
        Assert.True(TinyModels.Same(nn.functional.linear(x, crossV.weight) * vector, crossV.call(x)));
    }
}
