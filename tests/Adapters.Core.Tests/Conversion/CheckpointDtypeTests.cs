using System.Reflection;
using Adapters.Core.Generation;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Conversion;

/// <summary>Loading encoders and decoders with a dtype and a device: straight into the target, never through float32.</summary>
public sealed class CheckpointDtypeTests
{
    private const string TinyBertConfig = """
        {"model_type": "bert", "vocab_size": 50, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
         "intermediate_size": 64, "max_position_embeddings": 40, "type_vocab_size": 2, "pad_token_id": 0, "layer_norm_eps": 1e-12}
        """;

    [Fact]
    public void A_bf16_encoder_checkpoint_loads_as_bf16_without_a_float32_copy()
    {
        using var scope = NewDisposeScope();
        var dir = Directory.CreateTempSubdirectory("adapters-dtype-").FullName;
        try
        {
            var checkpoint = WriteBf16Encoder(dir);
            var read = new List<(string Name, ScalarType Type)>();

            using var model = PretrainedEncoders.Load(dir, requireWeights: true, dtype: ScalarType.BFloat16, device: null, onRead: (n, t) => read.Add((n, t.dtype)));

            Assert.Equal(checkpoint.Count, read.Count);
            Assert.All(read, r => Assert.Equal(ScalarType.BFloat16, r.Type));
            var state = model.state_dict();
            Assert.All(state, kv => Assert.Equal(ScalarType.BFloat16, kv.Value.dtype));
            foreach (var (key, value) in checkpoint) Assert.True(TinyModels.Same(value, state[key]), key);
            var hidden = ((Adapters.Core.Models.ITextEncoder)model).Encode(TinyModels.InputIds()).LastHiddenState;
            Assert.Equal(ScalarType.BFloat16, hidden.dtype);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void An_encoder_loads_onto_the_meta_device_in_the_requested_dtype()
    {
        using var scope = NewDisposeScope();
        var dir = Directory.CreateTempSubdirectory("adapters-dtype-").FullName;
        try
        {
            WriteBf16Encoder(dir);

            using var model = PretrainedEncoders.Load(dir, requireWeights: true, dtype: ScalarType.Float64, device: new Device(DeviceType.META));

            ModuleTensors.AssertAll(model, ScalarType.Float64, DeviceType.META);
            model.AddAdapter("late", "lora[r=4, alpha=8, attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]");
            ModuleTensors.AssertAll(model, ScalarType.Float64, DeviceType.META);
            AssertRecordedDevice(model, DeviceType.META);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void A_bf16_decoder_checkpoint_loads_as_bf16_without_a_float32_copy(string modelType)
    {
        using var scope = NewDisposeScope();
        var dir = Directory.CreateTempSubdirectory("adapters-dtype-").FullName;
        try
        {
            var source = DecoderAdapterMethodTests.Create(modelType);
            PretrainedDecoders.Save(source, dir, ScalarType.BFloat16);
            ((nn.Module)source).Dispose();
            var read = new List<ScalarType>();

            var model = PretrainedDecoders.Load(dir, ScalarType.BFloat16, requireWeights: true, device: null, onRead: (_, t) => read.Add(t.dtype));

            Assert.NotEmpty(read);
            Assert.All(read, t => Assert.Equal(ScalarType.BFloat16, t));
            ModuleTensors.AssertAll((nn.Module)model, ScalarType.BFloat16, DeviceType.CPU);
            Assert.Equal(ScalarType.BFloat16, model.Forward(TinyDecoders.Prompt()).Logits.dtype);
            ((nn.Module)model).Dispose();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Decoders_built_on_a_device_record_it_so_that_later_moves_include_every_module()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Initialize();
        var meta = new Device(DeviceType.META);
        using var gpt2 = new Gpt2LMHeadModel(TinyDecoders.Gpt2Config(), meta, ScalarType.BFloat16);
        using var llama = new LlamaForCausalLM(TinyDecoders.LlamaConfig(), meta, ScalarType.BFloat16);
        foreach (var model in new ICausalLM[] { gpt2, llama })
        {
            model.BaseModel.AddAdapter("bn", "double_seq_bn");
            model.BaseModel.AddAdapter("lora", "lora[r=4, alpha=8, attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]");
            model.BaseModel.AddAdapter("prefix", "prefix_tuning");

            ModuleTensors.AssertAll((nn.Module)model, ScalarType.BFloat16, DeviceType.META);
            AssertRecordedDevice((nn.Module)model, DeviceType.META);
        }
    }

    private static Dictionary<string, Tensor> WriteBf16Encoder(string dir)
    {
        File.WriteAllText(Path.Combine(dir, "config.json"), TinyBertConfig);
        using var source = TinyModels.Bert(seed: 9);
        var checkpoint = source.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().to(ScalarType.BFloat16));
        TensorFiles.Save(Path.Combine(dir, "model.safetensors"), checkpoint);
        return checkpoint;
    }

    // TorchSharp's Module.to(device) skips modules whose recorded device equals the target, so a module that records
    // the CPU while its tensors live elsewhere would be left behind by the next move. (Modules that override the move,
    // like TorchSharp's Linear and LayerNorm, always move and keep no record.)
    private static void AssertRecordedDevice(nn.Module root, DeviceType device)
    {
        var field = typeof(nn.Module).GetField("_deviceType", BindingFlags.Instance | BindingFlags.NonPublic)!;
        static bool UsesRecord(nn.Module m) =>
            m.GetType().GetMethod("_to", BindingFlags.Instance | BindingFlags.NonPublic, [typeof(DeviceType), typeof(int), typeof(bool)])!.DeclaringType == typeof(nn.Module);
        var wrong = root.named_modules().Prepend(("", root))
            .Where(m => UsesRecord(m.Item2) && (DeviceType)field.GetValue(m.Item2)! != device)
            .Select(m => $"{m.Item1} ({m.Item2.GetType().Name}): {field.GetValue(m.Item2)}")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(20)));
    }
}
