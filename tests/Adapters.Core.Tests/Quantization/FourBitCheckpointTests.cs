using Adapters.Core.Methods.LoRA;
using Adapters.Core.Models;
using Adapters.Core.Quantization;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using Adapters.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Quantization;

/// <summary>
/// bitsandbytes-serialised checkpoints (fixtures/quantization/llama_gqa_nf4, see its ATTRIBUTION.md) and quantization
/// at load: bytes survive load → save unchanged, and quantizing the dense model gives the bytes bitsandbytes wrote.
/// </summary>
public sealed class FourBitCheckpointTests : IDisposable
{
    private static readonly string[] s_sites = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "nf4-" + Guid.NewGuid().ToString("N"));

    private static string BnbFolder => TestPaths.Fixture("quantization", "llama_gqa_nf4");

    private static string DenseFolder => TestPaths.Fixture("decoder-sites", "models", "llama_gqa");

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static IEnumerable<string> SiteKeys(string weightKey, TensorFile file) =>
        file.Tensors.Select(t => t.Name).Where(k => k == weightKey || BitsAndBytesFormat.WeightKeyOf(k) == weightKey);

    [Fact]
    public void A_bitsandbytes_checkpoint_loads_packed_and_saves_byte_identical()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var model = PretrainedDecoders.Load(BnbFolder);
        Assert.Equal(14, model.BaseModel.BaseLinears().Count(l => l.Linear.QuantState is not null));

        PretrainedDecoders.Save(model, _folder);
        using var source = TensorFiles.Open(Path.Combine(BnbFolder, "model.safetensors"));
        using var saved = TensorFiles.Open(Path.Combine(_folder, "model.safetensors"));
        var compared = 0;
        foreach (var layer in new[] { 0, 1 })
        {
            foreach (var site in s_sites)
            {
                var weightKey = $"layers.{layer}.{site}.weight";
                foreach (var key in SiteKeys(weightKey, source))
                {
                    FourBitQuantizerTests.AssertIdentical(source.LoadTensor(key), saved.LoadTensor("model." + key), key);
                    compared++;
                }
            }
        }
        Assert.Equal(2 * 7 * 6, compared);
        // Every block linear (o_proj and gate_proj too) stays packed; the embeddings stay dense.
        Assert.Equal(ScalarType.Byte, saved.LoadTensor("model.layers.0.self_attn.o_proj.weight").dtype);
        Assert.Equal(ScalarType.Float32, saved.LoadTensor("model.embed_tokens.weight").dtype);
        Assert.Contains("\"bnb_4bit_quant_type\": \"nf4\"", File.ReadAllText(Path.Combine(_folder, "config.json")));

        // Loading the saved folder again computes exactly the same logits.
        using var prompt = TinyDecoders.Prompt(length: 7);
        var logits = model.Forward(prompt).Logits;
        var reloaded = PretrainedDecoders.Load(_folder);
        Assert.True(TinyDecoders.MaxDiff(logits, reloaded.Forward(prompt).Logits) == 0);
    }

    [Fact]
    public void Quantizing_at_load_gives_the_bytes_bitsandbytes_wrote()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var model = PretrainedDecoders.Load(DenseFolder, FourBitOptions.Nf4);
        PretrainedDecoders.Save(model, _folder);
        using var source = TensorFiles.Open(Path.Combine(BnbFolder, "model.safetensors"));
        using var saved = TensorFiles.Open(Path.Combine(_folder, "model.safetensors"));
        foreach (var layer in new[] { 0, 1 })
        {
            foreach (var site in s_sites)
            {
                foreach (var key in SiteKeys($"layers.{layer}.{site}.weight", source))
                {
                    var expected = source.LoadTensor(key);
                    var actual = saved.LoadTensor("model." + key);
                    if (key.EndsWith(".nested_quant_map", StringComparison.Ordinal))
                    {
                        // PyTorch 1.13's float32 linspace, which wrote the fixture, rounds a few map entries one ulp
                        // apart from libtorch 2.x (see DynamicQuantMap); every byte computed with the map matches.
                        Assert.True(TinyDecoders.MaxDiff(expected, actual) < 1e-6, key);
                        continue;
                    }
                    FourBitQuantizerTests.AssertIdentical(expected, actual, key);
                }
            }
        }
    }

    [Fact]
    public void Encoders_quantize_at_load_and_stay_close_to_the_dense_model()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var folder = TestPaths.Fixture("python-goldens", "models", "bert");
        var dense = (ITextEncoder)PretrainedEncoders.Load(folder, requireWeights: true);
        var quantized = PretrainedEncoders.Load(folder, FourBitOptions.Nf4);
        var sites = quantized.BaseLinears();
        Assert.NotEmpty(sites);
        Assert.All(sites, s => Assert.Equal(ScalarType.Byte, s.Linear.weight.dtype));

        using var ids = TinyModels.InputIds();
        var expected = dense.Encode(ids).LastHiddenState;
        var actual = ((ITextEncoder)quantized).Encode(ids).LastHiddenState;
        var relative = ((actual - expected).norm() / expected.norm()).item<float>();
        Assert.InRange(relative, 1e-4, 0.2);
    }

    [Fact]
    public void A_state_key_without_its_packed_json_names_what_is_missing()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        Directory.CreateDirectory(_folder);
        File.Copy(Path.Combine(BnbFolder, "config.json"), Path.Combine(_folder, "config.json"));
        using (var source = TensorFiles.Open(Path.Combine(BnbFolder, "model.safetensors")))
        {
            var kept = source.Tensors.Where(t => t.Name != "layers.1.self_attn.v_proj.weight.absmax")
                .Select(t => new KeyValuePair<string, Tensor>(t.Name, source.LoadTensor(t.Name))).ToList();
            TensorFiles.Save(Path.Combine(_folder, "model.safetensors"), kept);
        }
        var error = Assert.Throws<QuantizationException>(() => PretrainedDecoders.Load(_folder));
        Assert.Contains("\"layers.1.self_attn.v_proj.weight.absmax\"", error.Message);
    }
}
