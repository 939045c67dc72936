using System.Text.Json.Nodes;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Models;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Quantization;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Quantization;

/// <summary>
/// Every linear layer of the transformer blocks goes to 4 bits (as bitsandbytes quantizes every <c>nn.Linear</c> /
/// <c>Conv1D</c> of them), embeddings and LM head stay dense, and adapters work on top of all of them, PEFT tuners included.
/// </summary>
public sealed class FourBitCoverageTests
{
    /// <summary>Copies each 4-bit layer's dequantized weight into the dense twin's layer, in that layer's storage layout.</summary>
    internal static void CopyDequantized(AdapterModel quantized, AdapterModel dense)
    {
        using var _ = no_grad();
        foreach (var ((qPath, q), (dPath, d)) in quantized.BaseLinears().Zip(dense.BaseLinears()))
        {
            Assert.Equal(qPath, dPath);
            using var w = q.OutInWeight;
            var transposed = d is FusedQkvLinear || d is AdaptableLinear { FanInFanOut: true };
            d.weight.copy_(transposed ? w.t() : w);
        }
    }

    [Fact]
    public void Every_block_linear_of_llama_gpt2_and_bert_becomes_4bit_and_embeddings_stay_dense()
    {
        using var scope = NewDisposeScope();
        var llama = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        Assert.Equal(2 * 7, llama.Model.QuantizeBaseWeights(FourBitOptions.Nf4));
        Assert.Equal(
            ["mlp.down_proj", "mlp.gate_proj", "mlp.up_proj", "self_attn.k_proj", "self_attn.o_proj", "self_attn.q_proj", "self_attn.v_proj"],
            llama.Model.BaseLinears().Where(l => l.Path.StartsWith("layers.0.", StringComparison.Ordinal)).Select(l => l.Path["layers.0.".Length..]).Order(StringComparer.Ordinal));
        var gpt2 = TinyDecoders.Gpt2();
        var gpt2Layers = gpt2.Config.NLayer;
        Assert.Equal(gpt2Layers * 4, gpt2.BaseModel.QuantizeBaseWeights(FourBitOptions.Nf4));
        Assert.Equal(["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"],
            gpt2.BaseModel.BaseLinears().Where(l => l.Path.StartsWith("h.0.", StringComparison.Ordinal)).Select(l => l.Path["h.0.".Length..]).Order(StringComparer.Ordinal));
        var bert = TinyModels.Bert();
        Assert.Equal(TinyModels.TinyBert().NumHiddenLayers * 6, bert.QuantizeBaseWeights(FourBitOptions.Nf4));
        Assert.Contains(bert.BaseLinears(), l => l.Path == "encoder.layer.0.attention.output.dense");

        // Exactly the block linears are packed: embeddings, norms, biases, the LM head and BERT's pooler stay dense.
        foreach (var (module, adapters) in new (nn.Module, AdapterModel)[] { (llama, llama.Model), (gpt2, gpt2.BaseModel), (bert, bert) })
        {
            var prefix = ReferenceEquals(module, adapters) ? "" : module.named_modules().First(m => ReferenceEquals(m.module, adapters)).name + ".";
            var packedKeys = adapters.BaseLinears().Select(l => prefix + l.Path + ".weight").ToHashSet(StringComparer.Ordinal);
            foreach (var (name, parameter) in module.named_parameters())
                Assert.True((parameter.dtype == ScalarType.Byte) == packedKeys.Contains(name), $"{name}: {parameter.dtype}");
        }
        var denseNames = llama.named_parameters().Concat(gpt2.named_parameters()).Concat(bert.named_parameters())
            .Where(p => p.parameter.dtype != ScalarType.Byte).Select(p => p.name).ToArray();
        Assert.Contains("lm_head.weight", denseNames);
        Assert.Contains("model.embed_tokens.weight", denseNames);
        Assert.Contains("pooler.dense.weight", denseNames);
        Assert.Contains("transformer.wte.weight", denseNames);
    }

    public static TheoryData<string> Gpt2Methods => new()
    {
        "lora[r=4, alpha=8, attn_matrices=['q','v'], intermediate_lora=True, output_lora=True]",
        "ia3",
        "seq_bn",
        "prefix_tuning[prefix_length=3, bottleneck_size=8]",
        "loreft[r=2, prefix_positions=2]",
    };

    [Theory]
    [MemberData(nameof(Gpt2Methods))]
    public void Gpt2_methods_run_on_a_4bit_base_with_fused_c_attn_as_on_the_dequantized_twin(string method)
    {
        using var scope = NewDisposeScope();
        var model = TinyDecoders.Gpt2();
        var dense = TinyDecoders.Gpt2();
        model.BaseModel.QuantizeBaseWeights(FourBitOptions.Nf4);
        CopyDequantized(model.BaseModel, dense.BaseModel);
        using var prompt = TinyDecoders.Prompt(batch: 2, length: 6);
        Assert.True(TinyDecoders.MaxDiff(model.Forward(prompt).Logits, dense.Forward(prompt).Logits) < 1e-5);
        foreach (var m in new[] { model, dense })
        {
            manual_seed(5);
            m.BaseModel.AddAdapter("a", method, setActive: true);
            DecoderAdapterMethodTests.Perturb(m.BaseModel, "a");
        }
        var plain = TinyDecoders.Gpt2().Forward(prompt).Logits;
        var adapted = model.Forward(prompt).Logits;
        Assert.True(TinyDecoders.MaxDiff(adapted, dense.Forward(prompt).Logits) < 1e-4);
        Assert.Equal(ScalarType.Byte, model.BaseModel.BaseLinears().Single(l => l.Path == "h.0.attn.c_attn").Linear.weight.dtype);
        Assert.True(TinyDecoders.MaxDiff(plain, adapted.narrow(1, adapted.shape[1] - 6, 6)) > 1e-4, "the adapter must change the logits");
    }

    [Fact]
    public void Fused_c_attn_refuses_to_merge_while_4bit()
    {
        using var scope = NewDisposeScope();
        var model = TinyDecoders.Gpt2();
        model.BaseModel.QuantizeBaseWeights(FourBitOptions.Nf4);
        model.BaseModel.AddAdapter("a", "lora[attn_matrices=['q','v']]", setActive: true);
        var error = Assert.Throws<QuantizationException>(() => model.BaseModel.MergeAdapter("a"));
        Assert.Contains("DequantizeWeight", error.Message);
    }

    [Theory]
    [InlineData("""{"r": 4, "lora_alpha": 8, "init_lora_weights": false, "target_modules": ["q_proj", "o_proj", "gate_proj", "down_proj"]}""")]
    [InlineData("""{"r": 4, "lora_alpha": 8, "use_dora": true, "init_lora_weights": false, "target_modules": ["o_proj", "gate_proj"]}""")]
    public void Peft_lora_and_dora_run_on_4bit_layers_and_refuse_to_merge_into_them(string fields)
    {
        using var scope = NewDisposeScope();
        var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        var dense = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        model.Model.QuantizeBaseWeights(FourBitOptions.Nf4);
        CopyDequantized(model.Model, dense.Model);
        var tuners = new List<PeftTunerModel>();
        foreach (var m in new[] { model, dense })
        {
            manual_seed(9);
            var peft = new PeftTunerModel(m);
            peft.AddAdapter("default", PeftConfig.Create("LORA", JsonNode.Parse(fields)!.AsObject()));
            tuners.Add(peft);
        }
        // Adapter tensors are created in the compute dtype, never in the packed uint8.
        Assert.All(model.named_parameters().Where(p => p.name.Contains("lora_", StringComparison.Ordinal)), p => Assert.Equal(ScalarType.Float32, p.parameter.dtype));
        using var prompt = TinyDecoders.Prompt(batch: 2, length: 6);
        var plain = TinyDecoders.Llama(TinyDecoders.LlamaConfig()).Forward(prompt).Logits;
        var adapted = model.Forward(prompt).Logits;
        Assert.True(TinyDecoders.MaxDiff(adapted, dense.Forward(prompt).Logits) < 1e-4);
        Assert.True(TinyDecoders.MaxDiff(adapted, plain) > 1e-4, "the adapter must change the logits");
        var error = Assert.Throws<QuantizationException>(() => tuners[0].Merge("default"));
        Assert.Contains("4-bit", error.Message);
    }

    [Fact]
    public void Gpt2_quantized_at_load_saves_and_reloads_identical_packed_bytes_and_logits()
    {
        using var scope = NewDisposeScope();
        var dense = TinyDecoders.Gpt2();
        var folder = Directory.CreateTempSubdirectory("gpt2-nf4-").FullName;
        var packedFolder = Directory.CreateTempSubdirectory("gpt2-nf4-packed-").FullName;
        try
        {
            PretrainedDecoders.Save(dense, folder);
            // Streaming quantize-at-load gives the bytes that quantizing the loaded dense model gives.
            var streamed = PretrainedDecoders.Load(folder, FourBitOptions.Nf4);
            dense.BaseModel.QuantizeBaseWeights(FourBitOptions.Nf4);
            var expected = dense.BaseModel.BaseLinears().ToDictionary(l => l.Path, l => l.Linear);
            Assert.Equal(8, expected.Count);
            foreach (var (path, linear) in streamed.BaseModel.BaseLinears())
            {
                Assert.True(TinyModels.Same(expected[path].weight, linear.weight), path);
                Assert.True(TinyModels.Same(expected[path].QuantState!.Absmax, linear.QuantState!.Absmax), path);
            }

            // Saved in bitsandbytes' form and loaded back: the same bytes, the same logits.
            PretrainedDecoders.Save(streamed, packedFolder);
            using (var file = TensorFiles.Open(Path.Combine(packedFolder, "model.safetensors")))
            {
                Assert.Equal(ScalarType.Byte, file.LoadTensor("transformer.h.0.attn.c_attn.weight").dtype);
                Assert.True(file.Contains("transformer.h.0.attn.c_attn.weight.quant_state.bitsandbytes__nf4"));
            }
            var reloaded = PretrainedDecoders.Load(packedFolder);
            foreach (var ((path, a), (_, b)) in streamed.BaseModel.BaseLinears().Zip(reloaded.BaseModel.BaseLinears()))
            {
                Assert.True(TinyModels.Same(a.weight, b.weight), path);
                Assert.True(TinyModels.Same(a.QuantState!.Absmax, b.QuantState!.Absmax), path);
            }
            using var prompt = TinyDecoders.Prompt(length: 7);
            Assert.Equal(0, TinyDecoders.MaxDiff(streamed.Forward(prompt).Logits, reloaded.Forward(prompt).Logits));
            Assert.Equal(0, TinyDecoders.MaxDiff(streamed.Forward(prompt).Logits, dense.Forward(prompt).Logits));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            Directory.Delete(packedFolder, recursive: true);
        }
    }

    [Fact]
    public void A_checkpoint_missing_a_block_weight_fails_the_streaming_load_naming_it()
    {
        using var scope = NewDisposeScope();
        var folder = Directory.CreateTempSubdirectory("llama-missing-").FullName;
        try
        {
            var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
            PretrainedDecoders.Save(model, folder);
            var path = Path.Combine(folder, "model.safetensors");
            var kept = new List<TensorPayload>();
            using (var file = TensorFiles.Open(path))
            {
                foreach (var spec in file.Tensors.Where(t => t.Name != "model.layers.1.self_attn.o_proj.weight"))
                    kept.Add(TensorPayload.FromTensor(spec.Name, file.LoadTensor(spec.Name)));
            }
            TensorFiles.Save(path, kept);
            var error = Assert.Throws<AdapterLoadException>(() => PretrainedDecoders.Load(folder, FourBitOptions.Nf4));
            Assert.Contains("model.layers.1.self_attn.o_proj.weight", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_model_built_for_streaming_load_holds_no_dense_block_weight()
    {
        using var scope = NewDisposeScope();
        LlamaForCausalLMHandle();

        static void LlamaForCausalLMHandle()
        {
            Adapters.Core.Models.Llama.LlamaForCausalLM model;
            using (new FourBitLoadScope(FourBitOptions.Nf4)) model = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
            Assert.All(model.Model.BaseLinears(), l => Assert.Equal(DeviceType.META, l.Linear.weight.device_type));
            Assert.All(model.named_parameters().Where(p => !p.name.EndsWith("proj.weight", StringComparison.Ordinal)), p => Assert.Equal(DeviceType.CPU, p.parameter.device_type));
            ((nn.Module)model).Dispose();
        }
    }
}
