using Adapters.Core.Models;
using Adapters.Core.Models.Llama;
using Adapters.Core.Serialization;
using Adapters.Testing;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

/// <summary>
/// Checkpoints of transformers' bare <c>GPT2Model</c> / <c>LlamaModel</c> / <c>MistralModel</c> (keys without the
/// <c>transformer.</c> / <c>model.</c> prefix, no <c>lm_head</c>) load as the bare decoder and as the causal LM.
/// </summary>
public sealed class BareDecoderCheckpointTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("bare-decoder-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Theory]
    [InlineData("gpt2", "h.1.mlp.c_proj.weight", "transformer.")]
    [InlineData("llama", "layers.1.mlp.down_proj.weight", "model.")]
    public void Pythons_bare_checkpoints_load_as_bare_decoder_and_as_causal_lm(string type, string key, string prefix)
    {
        using var scope = NewDisposeScope();
        var folder = TestPaths.Fixture("python-goldens", "models", type);
        using var file = TensorFiles.Load(Path.Combine(folder, "model.safetensors"));

        using var bare = PretrainedDecoders.LoadBaseModel(folder);
        using var lm = (nn.Module)PretrainedDecoders.Load(folder);

        Assert.DoesNotContain(file.Keys, k => k.StartsWith(prefix, StringComparison.Ordinal) || k.StartsWith("lm_head", StringComparison.Ordinal));
        Assert.True(TinyModels.Same(file[key], bare.state_dict()[key]));
        Assert.True(TinyModels.Same(file[key], lm.state_dict()[prefix + key]));
        Assert.False(bare.training);
    }

    [Fact]
    public void A_bare_mistral_checkpoint_loads_with_an_initialised_lm_head_and_a_causal_lm_one_loads_as_bare_mistral()
    {
        using var scope = NewDisposeScope();
        TorchRuntime.Initialize();
        manual_seed(8);
        var config = TinyDecoders.LlamaConfig("mistral");
        using var source = new LlamaModel(config);
        var bareDir = Directory.CreateDirectory(Path.Combine(_dir.FullName, "bare")).FullName;
        TensorFiles.Save(Path.Combine(bareDir, "model.safetensors"), source.state_dict());
        File.WriteAllText(Path.Combine(bareDir, "config.json"), config.ToJson().ToJsonString());

        using var lm = (LlamaForCausalLM)PretrainedDecoders.Load(bareDir);
        PretrainedDecoders.Save(lm, Path.Combine(_dir.FullName, "lm"));
        using var bare = (LlamaModel)PretrainedDecoders.LoadBaseModel(Path.Combine(_dir.FullName, "lm"));

        Assert.Equal("mistral", lm.Config.ModelType);
        Assert.True(TinyModels.Same(source.EmbedTokens, lm.Model.EmbedTokens));
        Assert.True(TinyModels.Same(source.state_dict()["layers.1.self_attn.k_proj.weight"], bare.state_dict()["layers.1.self_attn.k_proj.weight"]));
        Assert.Equal([(long)config.VocabSize, config.HiddenSize], lm.HeadWeight.shape);
        var ids = TinyDecoders.Prompt(batch: 1, length: 4);
        using var _ = no_grad();
        Assert.True(TinyModels.Same(source.Forward(ids), bare.Forward(ids)));
    }

    [Fact]
    public void A_causal_lm_checkpoint_without_its_untied_lm_head_still_fails()
    {
        using var scope = NewDisposeScope();
        using var lm = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        PretrainedDecoders.Save(lm, _dir.FullName);
        var path = Path.Combine(_dir.FullName, "model.safetensors");
        Dictionary<string, Tensor> kept;
        using (var file = TensorFiles.Load(path))
            kept = file.Where(p => p.Key != "lm_head.weight").ToDictionary(p => p.Key, p => p.Value.clone());
        TensorFiles.Save(path, kept);

        var error = Assert.Throws<AdapterLoadException>(() => PretrainedDecoders.Load(_dir.FullName));

        Assert.Contains("lm_head.weight", error.Message, StringComparison.Ordinal);
    }
}
