using Adapters.Core.Methods;
using Adapters.Core.Methods.LoRA;
using TorchSharp;
using Adapters.Core.Models;
using Adapters.Core.Models.Llama;
using Adapters.Core.Quantization;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Quantization;

/// <summary>A 4-bit base under every adapter method: the sites dequantize per layer and the methods work unchanged on top.</summary>
public sealed class FourBitSiteTests
{
    public static TheoryData<string> Methods => new()
    {
        "lora[r=4, alpha=8, attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]",
        "ia3",
        "dora[r=4, attn_matrices=['q','v']]",
        "seq_bn",
        "par_bn",
        "prefix_tuning[prefix_length=5, bottleneck_size=16]",
        "loreft[r=2, prefix_positions=2]",
    };

    private static LlamaForCausalLM Quantized(out LlamaForCausalLM dense, FourBitOptions options)
    {
        dense = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        var model = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        Assert.Equal(14, model.Model.QuantizeBaseWeights(options));
        // The dense twin holds exactly the dequantized values, so both must compute the same function.
        foreach (var ((_, q), (_, d)) in model.Model.BaseLinears().Zip(dense.Model.BaseLinears()))
        {
            using var _ = no_grad();
            using var w = q.OutInWeight;
            d.weight.copy_(w);
        }
        return model;
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_method_runs_on_a_4bit_base_as_on_its_dequantized_twin(string method)
    {
        using var scope = NewDisposeScope();
        var model = Quantized(out var dense, FourBitOptions.Nf4);
        using var prompt = TinyDecoders.Prompt(batch: 2, length: 6);
        var plain = model.Forward(prompt).Logits;
        Assert.True(TinyDecoders.MaxDiff(plain, dense.Forward(prompt).Logits) < 1e-5);

        foreach (var m in new[] { model, dense })
        {
            manual_seed(5);
            m.Model.AddAdapter("a", method, setActive: true);
            DecoderAdapterMethodTests.Perturb(m.Model, "a");
        }
        var adapted = model.Forward(prompt).Logits;

        Assert.True(TinyDecoders.MaxDiff(plain, adapted.narrow(1, adapted.shape[1] - 6, 6)) > 1e-4, $"the adapter must change the logits; dense changes by {TinyDecoders.MaxDiff(plain, dense.Forward(prompt).Logits.narrow(1, adapted.shape[1] - 6, 6))}");
        Assert.True(TinyDecoders.MaxDiff(adapted, dense.Forward(prompt).Logits) < 1e-4);
        Assert.All(model.Model.BaseLinears(), l => Assert.Equal(ScalarType.Byte, l.Linear.weight.dtype));
    }

    [Fact]
    public void Fp4_base_and_bf16_compute_work()
    {
        using var scope = NewDisposeScope();
        var model = Quantized(out var dense, FourBitOptions.Fp4);
        model.to(ScalarType.BFloat16);
        dense.to(ScalarType.BFloat16);
        using var prompt = TinyDecoders.Prompt();
        var logits = model.Forward(prompt).Logits;
        Assert.Equal(ScalarType.BFloat16, logits.dtype);
        // .to(dtype) converts the compute dtype only; the packed bytes and their float32 state stay as they were.
        var linear = model.Model.BaseLinears()[0].Linear;
        Assert.Equal(ScalarType.Byte, linear.weight.dtype);
        Assert.Equal(ScalarType.BFloat16, linear.ComputeDtype);
        Assert.Equal(ScalarType.Float32, linear.QuantState!.Nested!.Absmax.dtype);
        Assert.True(TinyDecoders.MaxDiff(logits.to(ScalarType.Float32), dense.Forward(prompt).Logits.to(ScalarType.Float32)) < 0.05);
    }

    [Fact]
    public void Merging_into_a_4bit_weight_is_refused_and_dequantizing_first_allows_it()
    {
        using var scope = NewDisposeScope();
        var model = Quantized(out _, FourBitOptions.Nf4);
        model.Model.AddAdapter("a", "lora", setActive: true);
        var error = Assert.Throws<QuantizationException>(() => model.Model.MergeAdapter("a"));
        Assert.Contains("4-bit (nf4)", error.Message);
        Assert.Contains("DequantizeWeight", error.Message);

        using var prompt = TinyDecoders.Prompt();
        var before = model.Forward(prompt).Logits;
        foreach (var (_, linear) in model.Model.BaseLinears()) linear.DequantizeWeight();
        model.Model.MergeAdapter("a");
        Assert.True(TinyDecoders.MaxDiff(before, model.Forward(prompt).Logits) < 1e-5);
    }

    [Fact]
    public void Gradients_reach_the_adapter_and_the_input_but_not_the_packed_weight()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Initialize();
        var linear = new AdaptableLinear(70, 30, true, new ActiveAdapterSetup(), 0, LoRALocation.Query);
        var reference = new AdaptableLinear(70, 30, true, new ActiveAdapterSetup(), 0, LoRALocation.Query);
        linear.QuantizeWeight(FourBitOptions.Nf4);
        using (no_grad())
        {
            using var w = linear.OutInWeight;
            reference.weight.copy_(w);
            reference.bias!.copy_(linear.bias!);
        }
        var input = randn(3, 70, requires_grad: true);
        var input2 = input.detach().clone().requires_grad_(true);
        linear.forward(input).square().sum().backward();
        reference.forward(input2).square().sum().backward();

        Assert.Null(linear.weight.grad);
        Assert.False(linear.weight.requires_grad);
        Assert.True(TinyDecoders.MaxDiff(input.grad!, input2.grad!) < 1e-4);
        Assert.True(TinyDecoders.MaxDiff(linear.bias!.grad!, reference.bias!.grad!) < 1e-4);
    }
}
