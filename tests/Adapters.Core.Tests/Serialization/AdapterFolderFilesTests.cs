using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using Adapters.Testing;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Serialization;

public sealed class AdapterFolderFilesTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("adapters-folder-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static Tensor Encode(AdapterModel model, Tensor ids) => ((ITextEncoder)model).Encode(ids).LastHiddenState;

    [Fact]
    public void The_python_written_mbert_adapter_and_head_load_from_their_folder_with_nothing_missing_or_unexpected()
    {
        var folder = TestPaths.Fixture("python-written", "AnHu2410__MD_crosslingual", "adapter");
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var config = new EncoderConfig { VocabSize = 16, MaxPositionEmbeddings = 16 };
        using var model = new FlexHeadModel(new BertModel(config));

        var result = model.LoadAdapter(folder, setActive: true);

        Assert.Equal("md", result.Name);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.Equal("md", model.ActiveHead);
        using var saved = TensorFiles.Load(Path.Combine(folder, "pytorch_adapter.bin"));
        const string key = "bert.encoder.layer.11.output.adapters.md.adapter_up.weight";
        Assert.True(TinyModels.Same(saved[key], model.BaseModel.GetAdapterStateDict("md")[key]));
        using var head = TensorFiles.Load(Path.Combine(folder, "pytorch_model_head.bin"));
        Assert.True(TinyModels.Same(head["heads.md.4.weight"], model.GetHeadStateDict("md")["heads.md.4.weight"]));
    }

    [Theory]
    [InlineData("lora[r=4, alpha=8, attn_matrices=['q','k','v']]")]
    [InlineData("seq_bn")]
    [InlineData("par_bn[init_weights='bert']")]
    public void Save_then_load_into_a_fresh_model_gives_identical_outputs(string configString)
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Bert(seed: 3);
        source.AddAdapter("task", configString, setActive: true);
        using (no_grad())
        {
            foreach (var (_, parameter) in source.AdapterParameters("task")) parameter.add_(randn_like(parameter) * 0.1);
        }
        var ids = TinyModels.InputIds();
        var expected = Encode(source, ids);

        source.SaveAdapter(_dir.FullName, "task");
        using var target = TinyModels.Bert(seed: 3);
        var result = target.LoadAdapter(_dir.FullName, setActive: true);

        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.True(TinyModels.Same(expected, Encode(target, ids)));
        using var bin = TensorFiles.Load(Path.Combine(_dir.FullName, AdapterFolderFiles.AdapterTorchFile));
        using var safetensors = TensorFiles.Load(Path.Combine(_dir.FullName, AdapterFolderFiles.AdapterSafetensorsFile));
        Assert.Equal(bin.Keys.Order(), safetensors.Keys.Order());
        Assert.All(bin.Keys, k => Assert.True(TinyModels.Same(bin[k], safetensors[k])));
        Assert.All(bin.Keys, k => Assert.StartsWith("bert.encoder.layer.", k, StringComparison.Ordinal));
    }

    [Fact]
    public void A_folder_without_weights_fails_naming_the_folder()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        File.WriteAllText(Path.Combine(_dir.FullName, "adapter_config.json"), "{}");

        var ex = Assert.Throws<AdapterLoadException>(() => model.LoadAdapter(_dir.FullName));

        Assert.Contains(_dir.FullName, ex.Message, StringComparison.Ordinal);
        Assert.Contains("pytorch_adapter.bin", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("pytorch_model.bin")]
    public void Pretrained_folders_load_hf_keyed_weights(string weightsFile)
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Bert(seed: 5);
        var hfKeyed = source.state_dict().ToDictionary(p => "bert." + p.Key, p => p.Value);
        File.WriteAllText(Path.Combine(_dir.FullName, "config.json"),
            """{"model_type": "bert", "vocab_size": 50, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "max_position_embeddings": 40, "type_vocab_size": 2, "layer_norm_eps": 1e-12}""");
        TensorFiles.Save(Path.Combine(_dir.FullName, weightsFile), hfKeyed);
        var ids = TinyModels.InputIds();

        using var loaded = PretrainedEncoders.Load(_dir.FullName, requireWeights: true);
        loaded.eval();

        Assert.True(TinyModels.Same(Encode(source, ids), Encode(loaded, ids)));
    }
}
