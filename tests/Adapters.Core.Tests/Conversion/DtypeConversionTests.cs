using Adapters.Core.Tests.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Conversion;

/// <summary>
/// <c>Module.to(dtype)</c> on every model with every method family: the converted model computes what the float32
/// model computes (float64 to 1e-5, bfloat16 to 3e-2) and no parameter, buffer or tensor field is left behind.
/// </summary>
public sealed class DtypeConversionTests
{
    public static TheoryData<string, string> Cases() => ConversionCases.All();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64_output_equals_the_float32_output(string model, string family)
    {
        using var scope = NewDisposeScope();
        using var built = ConversionCases.Create(model, family);
        var ids = ConversionCases.InputIds();
        var expected = built.Forward(ids).detach().clone();

        built.Module.to(ScalarType.Float64);

        ModuleTensors.AssertAll(built.Module, ScalarType.Float64, DeviceType.CPU);
        var actual = built.Forward(ids);
        Assert.Equal(ScalarType.Float64, actual.dtype);
        var diff = ConversionCases.MaxDiff(actual, expected);
        Assert.True(diff <= 1e-5, $"max abs diff {diff}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BFloat16_output_is_within_3e_2_of_the_float32_output_relative_to_its_scale(string model, string family)
    {
        using var scope = NewDisposeScope();
        using var built = ConversionCases.Create(model, family);
        var ids = ConversionCases.InputIds();
        var expected = built.Forward(ids).detach().clone();

        built.Module.bfloat16();

        ModuleTensors.AssertAll(built.Module, ScalarType.BFloat16, DeviceType.CPU);
        var actual = built.Forward(ids);
        Assert.Equal(ScalarType.BFloat16, actual.dtype);
        // bfloat16 keeps 8 significant bits, so the bound scales with the output: an encoder's normalised hidden
        // states reach |y| ≈ 3, where one bfloat16 step is already 1.6e-2.
        var scale = Math.Max(1.0, expected.abs().max().item<float>());
        var diff = ConversionCases.MaxDiff(actual, expected);
        Assert.True(diff <= 3e-2 * scale, $"max abs diff {diff}, max |y| {scale}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Meta_device_takes_every_parameter_buffer_and_tensor_field(string model, string family)
    {
        using var scope = NewDisposeScope();
        using var built = ConversionCases.Create(model, family);

        built.Module.to(new Device(DeviceType.META));

        ModuleTensors.AssertAll(built.Module, ScalarType.Float32, DeviceType.META);
        Assert.DoesNotContain(built.Module.parameters(), p => p.device_type == DeviceType.CPU);
        Assert.DoesNotContain(built.Module.buffers(), b => b.device_type == DeviceType.CPU);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Adapters_added_after_conversion_take_the_model_dtype_and_train(string model, string family)
    {
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.BFloat16 })
        {
            using var scope = NewDisposeScope();
            using var built = ConversionCases.CreateModel(model, family == "heads");
            built.Module.to(dtype);

            ConversionCases.AddFamily(built, family, "late");

            var added = ConversionCases.FamilyParameters(built, family, "late").ToList();
            Assert.NotEmpty(added);
            var orthogonalFloat32 = family == "loreft" && dtype == ScalarType.BFloat16;
            Assert.All(added.Where(p => !(orthogonalFloat32 && p.Key.Contains(".parametrizations.", StringComparison.Ordinal))), p => Assert.Equal(dtype, p.Parameter.dtype));
            ModuleTensors.AssertAll(built.Module, dtype, DeviceType.CPU, keepsFloat32OrthogonalWhenHalf: true);
            TrainingStep(built, family, added.Select(p => p.Parameter).ToList(), dtype);
        }
    }

    private static void TrainingStep(ConversionCase built, string family, IReadOnlyList<Parameter> trained, ScalarType dtype)
    {
        built.Module.train();
        foreach (var p in built.Module.parameters()) p.requires_grad = false;
        foreach (var p in trained) p.requires_grad = true;
        var before = trained.Select(p => p.detach().clone()).ToList();
        // Adam moves every parameter by about lr, well above bfloat16's resolution near 1 (2⁻⁷).
        using var optimizer = optim.Adam(trained, 0.05);
        optimizer.zero_grad();

        var output = built.Forward(ConversionCases.InputIds());
        Assert.Equal(dtype, output.dtype);
        var loss = output.to(ScalarType.Float32).pow(2).mean();
        loss.backward();
        optimizer.step();

        Assert.True(float.IsFinite(loss.item<float>()), $"{family}: loss {loss.item<float>()}");
        Assert.All(trained.Where(p => p.grad is not null), p => Assert.Equal(p.dtype, p.grad!.dtype));
        Assert.Contains(trained.Zip(before), pair => !TinyModels.Same(pair.First, pair.Second));
    }
}
