using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using Adapters.Testing;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

/// <summary>
/// The adapters in python-written/MANIFEST.md (A2: adapters 1.0.1 mBERT adapter "md"; A3: adapter-transformers 3.1
/// BigBird adapter "rotten_tomatoes1") against the keys and shapes our model produces for the same config.
/// </summary>
public sealed class PythonWrittenAdapterKeyTests
{
    // bert-base-sized layers; the vocabulary does not change adapter keys, so it is kept small to save memory.
    private static EncoderConfig BaseSized(string modelType) => new()
    {
        ModelType = modelType,
        VocabSize = 16,
        MaxPositionEmbeddings = 16,
        HiddenSize = 768,
        NumHiddenLayers = 12,
        NumAttentionHeads = 12,
        IntermediateSize = 3072,
    };

    // MANIFEST.md, A2 and A3: 48 tensors, 12 layers × (down weight, down bias, up weight, up bias).
    private static Dictionary<string, long[]> ManifestKeys(string prefix, string name)
    {
        var keys = new Dictionary<string, long[]>();
        for (var i = 0; i < 12; i++)
        {
            var stem = $"{prefix}.encoder.layer.{i}.output.adapters.{name}.";
            keys[stem + "adapter_down.0.weight"] = [48, 768];
            keys[stem + "adapter_down.0.bias"] = [48];
            keys[stem + "adapter_up.weight"] = [768, 48];
            keys[stem + "adapter_up.bias"] = [768];
        }
        return keys;
    }

    [Theory]
    [InlineData("md_crosslingual", "bert", "md")]
    [InlineData("bigbird_rotten_tomatoes", "bigbird", "rotten_tomatoes1")]
    public void Our_adapter_has_exactly_the_python_keys_and_shapes(string folder, string prefix, string name)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var file = AdapterConfigFile.Read(TestPaths.Fixture("models", "python-written", folder, "adapter_config.json"));
        using var model = new BertModel(BaseSized("bert"), basePrefix: prefix);
        Assert.Equal(name, file.Name);

        model.AddAdapter(file.Name!, file.GetConfig());
        var ours = model.GetAdapterStateDict(name);

        var expected = ManifestKeys(prefix, name);
        Assert.Equal(expected.Keys.Order(), ours.Keys.Order());
        foreach (var (key, shape) in expected) Assert.Equal(shape, ours[key].shape);
    }

    [Theory]
    [InlineData("md_crosslingual", "bert", "md", null)]
    [InlineData("md_crosslingual", "bert", "md", "renamed")]
    [InlineData("bigbird_rotten_tomatoes", "bigbird", "rotten_tomatoes1", null)]
    public void Python_keyed_weights_load_with_no_missing_or_unexpected_keys(string folder, string prefix, string name, string? loadAs)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var file = AdapterConfigFile.Read(TestPaths.Fixture("models", "python-written", folder, "adapter_config.json"));
        using var model = new BertModel(BaseSized("bert"), basePrefix: prefix);
        var weights = ManifestKeys(prefix, name).ToDictionary(p => p.Key, p => randn(p.Value));

        var result = model.LoadAdapterStateDict(file, weights, loadAs, setActive: true);

        Assert.Equal(loadAs ?? name, result.Name);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        var loaded = model.GetAdapterStateDict(result.Name);
        var key = $"{prefix}.encoder.layer.3.output.adapters.{name}.adapter_up.weight";
        var ourKey = key.Replace($".adapters.{name}.", $".adapters.{result.Name}.", StringComparison.Ordinal);
        Assert.True(TinyModels.Same(weights[key], loaded[ourKey]));
        Assert.Equal([result.Name], model.Setup.Names);
    }
}
