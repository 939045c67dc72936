using System.Text;
using Adapters.Core.Quantization;
using Adapters.Core.Serialization;
using Adapters.Testing;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Quantization;

/// <summary>
/// NF4/FP4 quantization against fixtures/quantization/bnb-4bit.safetensors, which PyTorch computed from bitsandbytes'
/// published algorithm (see its ATTRIBUTION.md): packed bytes, absmax, nested absmax, maps, packed JSON and
/// dequantized values must all be identical.
/// </summary>
public sealed class FourBitQuantizerTests
{
    public static TheoryData<string, FourBitType, int, bool> Cases => new()
    {
        { "nf4_f32_dq", FourBitType.Nf4, 64, true },
        { "nf4_bf16_dq", FourBitType.Nf4, 64, true },
        { "fp4_f32_dq", FourBitType.Fp4, 64, true },
        { "nf4_f32_bs128", FourBitType.Nf4, 128, false },
        { "fp4_bf16_odd", FourBitType.Fp4, 64, false },
    };

    internal static TensorFile OpenFixture()
    {
        TorchRuntime.Initialize();
        return TensorFiles.Open(TestPaths.Fixture("quantization", "bnb-4bit.safetensors"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Quantize_matches_bitsandbytes_bit_for_bit(string name, FourBitType type, int blocksize, bool doubleQuant)
    {
        using var file = OpenFixture();
        using var scope = NewDisposeScope();
        var input = file.LoadTensor($"{name}.input");
        // The fixture's PyTorch (1.13) rounds a few points of the dynamic map's float32 linspace differently from
        // libtorch 2.x (see DynamicQuantMap); quantize with the map the file was written with, as bitsandbytes
        // would under that PyTorch.
        var nestedMap = doubleQuant ? file.LoadTensor($"{name}.weight.nested_quant_map") : null;
        var (packed, state) = FourBitQuantizer.Quantize(input, new FourBitOptions(type, blocksize, doubleQuant), nestedMap);
        using var _ = state;

        AssertIdentical(file.LoadTensor($"{name}.weight"), packed, "packed");
        var written = BitsAndBytesFormat.StateTensors($"{name}.weight", state).ToDictionary(kv => kv.Key, kv => kv.Value);
        var expectedKeys = file.Tensors.Select(t => t.Name).Where(k => k.StartsWith($"{name}.weight.", StringComparison.Ordinal)).Order().ToArray();
        Assert.Equal(expectedKeys, written.Keys.Order().ToArray());
        foreach (var key in expectedKeys) AssertIdentical(file.LoadTensor(key), written[key], key);

        var dequantized = FourBitQuantizer.Dequantize(packed, state);
        Assert.Equal(input.dtype, dequantized.dtype);
        AssertIdentical(file.LoadTensor($"{name}.dequantized"), dequantized, "dequantized");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Stored_state_dequantizes_to_bitsandbytes_values(string name, FourBitType type, int blocksize, bool doubleQuant)
    {
        using var file = OpenFixture();
        using var scope = NewDisposeScope();
        var packed = file.LoadTensor($"{name}.weight");
        using var state = BitsAndBytesFormat.ReadState($"{name}.weight", packed.numel(), k => file.Contains(k) ? file.LoadTensor(k) : null, file.FilePath!);
        Assert.Equal(type, state.Type);
        Assert.Equal(blocksize, state.Blocksize);
        Assert.Equal(doubleQuant, state.Nested is not null);
        Assert.Equal(file.LoadTensor($"{name}.input").shape, state.Shape.ToArray());
        AssertIdentical(file.LoadTensor($"{name}.dequantized"), FourBitQuantizer.Dequantize(packed, state), "dequantized");
    }

    [Fact]
    public void Dynamic_map_is_bitsandbytes_layout()
    {
        using var file = OpenFixture();
        var ours = DynamicQuantMap.Values;
        var theirs = file.LoadTensor("nf4_f32_dq.weight.nested_quant_map").data<float>().ToArray();
        Assert.Equal(256, ours.Length);
        Assert.Equal(ours.Order().ToArray(), ours);
        Assert.Equal((-0.99297f, 0f, 1f), (ours[0], ours[127], ours[255]), new ApproxTriple());
        // Same construction; entries differ at most by PyTorch's one-ulp linspace rounding.
        for (var i = 0; i < 256; i++)
            Assert.True(Math.Abs(ours[i] - theirs[i]) <= 2 * (MathF.BitIncrement(MathF.Abs(theirs[i])) - MathF.Abs(theirs[i])), $"entry {i}: {ours[i]} vs {theirs[i]}");
    }

    private sealed class ApproxTriple : IEqualityComparer<(float, float, float)>
    {
        public bool Equals((float, float, float) x, (float, float, float) y) =>
            Math.Abs(x.Item1 - y.Item1) < 1e-5 && x.Item2 == y.Item2 && x.Item3 == y.Item3;

        public int GetHashCode((float, float, float) obj) => 0;
    }

    [Fact]
    public void Nf4_packs_the_first_element_in_the_high_nibble()
    {
        TorchRuntime.Initialize();
        // -1 is NF4 index 0, 1 is index 15; both blocks have absmax 1.
        using var weight = tensor(new[] { -1f, 1f, 1f, -1f }, ScalarType.Float32);
        var (packed, state) = FourBitQuantizer.Quantize(weight, new FourBitOptions(DoubleQuant: false));
        using (packed)
        using (state)
        {
            Assert.Equal(new byte[] { 0x0F, 0xF0 }, packed.data<byte>().ToArray());
            Assert.Equal(new long[] { 2, 1 }, packed.shape);
        }
    }

    [Fact]
    public void Double_quantization_stores_about_4_127_bits_per_weight()
    {
        TorchRuntime.Initialize();
        using var weight = randn(256, 1024);
        var (packed, state) = FourBitQuantizer.Quantize(weight, FourBitOptions.Nf4);
        using (packed)
        using (state)
        {
            // 4 bits + 8 bits per 64 weights + 32 bits per 64*256 weights, plus the two fixed maps.
            var bits = (packed.numel() * 8.0 + (state.ByteSize - 16 * 4 - 256 * 4) * 8.0) / weight.numel();
            Assert.InRange(bits, 4.12, 4.13);
        }
    }

    [Fact]
    public void Packed_json_is_what_bitsandbytes_writes()
    {
        using var file = OpenFixture();
        using var json = file.LoadTensor("nf4_bf16_dq.weight.quant_state.bitsandbytes__nf4");
        var text = Encoding.UTF8.GetString(json.data<byte>().ToArray());
        Assert.StartsWith("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [130, 130], \"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": ", text);
    }

    [Fact]
    public void Malformed_state_names_the_key_and_expectation()
    {
        using var file = OpenFixture();
        Tensor? Without(string key, string missing) => key == missing ? null : file.Contains(key) ? file.LoadTensor(key) : null;
        using var packed = file.LoadTensor("nf4_f32_dq.weight");

        var noAbsmax = Assert.Throws<QuantizationException>(() =>
            BitsAndBytesFormat.ReadState("nf4_f32_dq.weight", packed.numel(), k => Without(k, "nf4_f32_dq.weight.absmax"), "m.safetensors"));
        Assert.Contains("\"nf4_f32_dq.weight.absmax\"", noAbsmax.Message);

        var wrongSize = Assert.Throws<QuantizationException>(() =>
            BitsAndBytesFormat.ReadState("nf4_f32_dq.weight", packed.numel() - 1, k => Without(k, ""), "m.safetensors"));
        Assert.Contains("packs into 8450", wrongSize.Message);

        var badJson = Assert.Throws<QuantizationException>(() =>
            BitsAndBytesFormat.ReadState("nf4_f32_dq.weight", packed.numel(),
                k => k.EndsWith("__nf4", StringComparison.Ordinal) ? tensor(Encoding.UTF8.GetBytes("{\"quant_type\": \"nf4\", \"blocksize\": 65}"), ScalarType.Byte) : Without(k, ""),
                "m.safetensors"));
        Assert.Contains("blocksize 65", badJson.Message);
    }

    internal static void AssertIdentical(Tensor expected, Tensor actual, string what)
    {
        Assert.True(expected.dtype == actual.dtype, $"{what}: dtype {actual.dtype}, expected {expected.dtype}");
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        var a = Bytes(expected);
        var b = Bytes(actual);
        var first = Enumerable.Range(0, a.Length).FirstOrDefault(i => a[i] != b[i], -1);
        Assert.True(first < 0, $"{what}: byte {first} differs ({b.ElementAtOrDefault(first)} vs {a.ElementAtOrDefault(first)})");
    }

    private static byte[] Bytes(Tensor tensor)
    {
        var bytes = new List<byte>();
        TorchBridge.CopyOut(tensor.cpu().contiguous(), span => bytes.AddRange(span.ToArray()));
        return bytes.ToArray();
    }
}
