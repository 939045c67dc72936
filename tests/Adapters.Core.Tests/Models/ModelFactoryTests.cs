using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using Adapters.Core.Serialization;
using Adapters.Testing;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

/// <summary>
/// <see cref="ModelFactory"/>: a folder brings config.json and its weights, a config file is read as given (whatever its
/// name), a config object builds its model; model_type picks the class.
/// </summary>
public sealed class ModelFactoryTests : IDisposable
{
    private const string TwoLayerBert = """{"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 50, "max_position_embeddings": 16, "type_vocab_size": 2}""";
    private const string ThreeLayerBert = """{"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 50, "max_position_embeddings": 16, "type_vocab_size": 2}""";
    private const string Gpt2 = """{"model_type": "gpt2", "n_embd": 32, "n_layer": 2, "n_head": 4, "vocab_size": 50, "n_positions": 16}""";
    private const string Llama = """{"model_type": "llama", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 50}""";

    private readonly string _dir = Directory.CreateTempSubdirectory("model-factory-").FullName;

    public ModelFactoryTests() => Core.TorchRuntime.Initialize();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_config_file_beside_another_config_json_builds_the_file_given()
    {
        // The regression behind `summary --model FILE`: the sibling config.json (2 layers) was used instead of FILE (3).
        File.WriteAllText(Path.Combine(_dir, "config.json"), TwoLayerBert);
        var other = Path.Combine(_dir, "bert-3.json");
        File.WriteAllText(other, ThreeLayerBert);

        using var fromFile = ModelFactory.Load(other);
        using var fromFolder = ModelFactory.Load(_dir);

        Assert.Equal(3, ((BertModel)fromFile.Adapters).Config.NumHiddenLayers);
        Assert.Equal(2, ((BertModel)fromFolder.Adapters).Config.NumHiddenLayers);
        Assert.Equal(other, fromFile.Source);
        Assert.False(fromFile.IsDecoder);
        Assert.Same(fromFile.Module, fromFile.Adapters);
    }

    [Fact]
    public void A_folder_brings_its_weights_and_a_config_file_in_it_does_not()
    {
        var folder = TestPaths.Fixture("python-goldens", "models", "bert");
        using var weights = TensorFiles.Load(Path.Combine(folder, "model.safetensors"));
        var stored = weights["embeddings.word_embeddings.weight"];

        using var loaded = ModelFactory.Load(folder);
        using var random = ModelFactory.Load(Path.Combine(folder, "config.json"));

        var key = "embeddings.word_embeddings.weight";
        Assert.True(loaded.Adapters.state_dict()[key].allclose(stored, rtol: 0, atol: 0));
        Assert.False(random.Adapters.state_dict()[key].allclose(stored, rtol: 0, atol: 0));
        var ex = Assert.Throws<AdapterLoadException>(() => { using var _ = ModelFactory.Load(Path.Combine(folder, "config.json"), requireWeights: true); });
        Assert.Contains("config file", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Gpt2, typeof(Gpt2LMHeadModel), typeof(Gpt2Model))]
    [InlineData(Llama, typeof(LlamaForCausalLM), typeof(LlamaModel))]
    public void Decoder_configs_give_the_causal_lm_with_adapters_on_its_base_model(string json, Type module, Type baseModel)
    {
        var path = Path.Combine(_dir, "decoder.json");
        File.WriteAllText(path, json);

        using var fromFile = ModelFactory.FromConfigFile(path);
        using var fromText = ModelFactory.FromConfig(json);

        foreach (var model in new[] { fromFile, fromText })
        {
            Assert.True(model.IsDecoder);
            Assert.IsType(module, model.Module);
            Assert.IsType(baseModel, model.Adapters);
            Assert.Same(model.CausalLM!.BaseModel, model.Adapters);
        }
        Assert.Equal(path, fromFile.Source);
    }

    [Fact]
    public void Config_objects_build_their_model_class()
    {
        using var bert = ModelFactory.FromConfig(EncoderConfig.Parse(ThreeLayerBert));
        using var roberta = ModelFactory.FromConfig(EncoderConfig.Parse(ThreeLayerBert.Replace("\"bert\"", "\"roberta\"", StringComparison.Ordinal)));
        using var gpt2 = ModelFactory.FromConfig(Gpt2Config.Parse(Gpt2));
        using var llama = ModelFactory.FromConfig(LlamaConfig.Parse(Llama));

        Assert.IsType<BertModel>(bert.Adapters);
        Assert.IsType<RobertaModel>(roberta.Adapters);
        Assert.Equal("roberta", roberta.ModelType);
        Assert.IsType<Gpt2Model>(gpt2.Adapters);
        Assert.Equal("llama", llama.ModelType);
    }

    [Fact]
    public void Bad_inputs_are_typed_errors_naming_the_path_or_field()
    {
        var missing = Path.Combine(_dir, "nothing-here");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => ModelFactory.Load(missing)).Message, StringComparison.Ordinal);
        Assert.Contains("config.json is missing", Assert.Throws<FileNotFoundException>(() => ModelFactory.Load(_dir)).Message, StringComparison.Ordinal);

        var untyped = Path.Combine(_dir, "untyped.json");
        File.WriteAllText(untyped, """{"hidden_size": 32}""");
        var ex = Assert.Throws<AdapterConfigException>(() => ModelFactory.Load(untyped));
        Assert.Contains(untyped, ex.Message, StringComparison.Ordinal);
        Assert.Contains("model_type", ex.Message, StringComparison.Ordinal);

        var t5 = Path.Combine(_dir, "t5.json");
        File.WriteAllText(t5, """{"model_type": "t5"}""");
        Assert.Contains("t5", Assert.Throws<AdapterConfigException>(() => ModelFactory.Load(t5)).Message, StringComparison.Ordinal);
    }
}
