using Adapters.Core.Configuration;
using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Heads;

public sealed class DecoderHeadTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("decoder-heads-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static AdapterModel Decoder(string type, long? padTokenId = 0, bool tie = false)
    {
        TorchRuntime.Initialize();
        manual_seed(5);
        AdapterModel model = type == "gpt2"
            ? new Gpt2Model(TinyDecoders.Gpt2Config() with { PadTokenId = padTokenId })
            : new LlamaModel(TinyDecoders.LlamaConfig(type) with { PadTokenId = padTokenId, TieWordEmbeddings = tie });
        model.eval();
        return model;
    }

    [Theory]
    [InlineData("gpt2", "GPT2AdapterModel", "transformer.h.0.ln_1.weight", true)]
    [InlineData("llama", "LlamaAdapterModel", "model.layers.0.input_layernorm.weight", false)]
    [InlineData("mistral", "MistralAdapterModel", "model.layers.0.input_layernorm.weight", false)]
    // Python has no Qwen2AdapterModel (Qwen2 is a plugin model there); the model class written stays the wrapped one's.
    [InlineData("qwen2", "Qwen2ForCausalLM", "model.layers.0.input_layernorm.weight", false)]
    public void Every_decoder_takes_pythons_head_types_with_pythons_layout(string type, string modelClass, string baseKey, bool tied)
    {
        using var scope = NewDisposeScope();
        using var model = new FlexHeadModel(Decoder(type));
        model.eval();
        model.AddClassificationHead("cls", numLabels: 3);
        model.AddClassificationHead("multi", numLabels: 4, multilabel: true);
        model.AddTaggingHead("tag", numLabels: 5);
        model.AddQaHead("qa");
        model.AddCausalLmHead("lm");
        var ids = TinyDecoders.Prompt(batch: 2, length: 6);

        using var _ = no_grad();
        Assert.Equal([2L, 3L], model.Forward(ids, head: "cls").shape);
        Assert.Equal([2L, 4L], model.Forward(ids, head: "multi").shape);
        Assert.Equal([2L, 6L, 5L], model.Forward(ids, head: "tag").shape);
        Assert.Equal([2L, 6L, 2L], model.Forward(ids, head: "qa").shape);
        Assert.Equal([2L, 6L, (long)TinyDecoders.Vocab], model.Forward(ids, head: "lm").shape);
        var lm = model.GetHeadStateDict("lm");
        Assert.Equal(["heads.lm.0.bias", "heads.lm.0.weight", "heads.lm.2.bias", "heads.lm.2.weight", "heads.lm.3.bias", "heads.lm.3.weight"], lm.Keys.Order());
        var embeddings = model.state_dict().Single(p => p.Key.EndsWith("wte.weight", StringComparison.Ordinal) || p.Key.EndsWith("embed_tokens.weight", StringComparison.Ordinal)).Value;
        Assert.Equal(tied, TinyModels.Same(lm["heads.lm.3.weight"], embeddings));
        Assert.Contains(baseKey, model.state_dict().Keys);
        var config = model.CreateHeadConfigFile("lm");
        Assert.Equal(modelClass, config.ModelClass);
        Assert.Equal("causal_lm", config.Config["head_type"]!.GetValue<string>());
        Assert.True(config.Config["shift_labels"]!.GetValue<bool>());
    }

    [Fact]
    public void A_tied_llama_config_ties_the_lm_decoder_to_the_embeddings()
    {
        using var scope = NewDisposeScope();
        using var model = new FlexHeadModel(Decoder("llama", tie: true));

        var head = model.AddCausalLmHead("lm");

        Assert.Equal("3.weight", head.TiedDecoderKey);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Classification_reads_the_last_non_padding_token_as_python(string type)
    {
        using var scope = NewDisposeScope();
        using var model = new FlexHeadModel(Decoder(type, padTokenId: 0));
        model.eval();
        model.AddClassificationHead("cls", numLabels: 3);
        var full = tensor(new long[] { 5, 17, 42, 8, 9, 23, 3 }, [1, 7]);
        var padded = tensor(new long[] { 7, 14, 11, 29, 50, 0, 0 }, [1, 7]);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }, [2, 7]);

        using var _ = no_grad();
        var batch = model.Forward(cat([full, padded]), mask, head: "cls");
        var alone = model.Forward(padded.narrow(1, 0, 5), head: "cls");
        var longer = model.Forward(tensor(new long[] { 7, 14, 11, 29, 50, 13 }, [1, 6]), head: "cls");

        Assert.True(allclose(batch[1].unsqueeze(0), alone, rtol: 0, atol: 1e-6), "the padded row reads its last real token");
        Assert.False(allclose(alone, longer, rtol: 0, atol: 1e-6), "a later real token is read instead");
        Assert.True(allclose(batch[0].unsqueeze(0), model.Forward(full, head: "cls"), rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Without_a_pad_token_classification_reads_the_last_position()
    {
        using var scope = NewDisposeScope();
        using var model = new FlexHeadModel(Decoder("gpt2", padTokenId: null));
        model.eval();
        model.AddClassificationHead("cls", numLabels: 2);
        var ids = tensor(new long[] { 7, 14, 11, 0, 0 }, [1, 5]);

        using var _ = no_grad();
        var logits = model.Forward(ids, head: "cls");
        var prefix = model.Forward(ids.narrow(1, 0, 3), head: "cls");

        Assert.False(allclose(logits, prefix, rtol: 0, atol: 1e-6));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Masked_lm_heads_are_refused_on_decoders_as_python_does(string type)
    {
        using var model = new FlexHeadModel(Decoder(type));

        var error = Assert.Throws<AdapterConfigException>(() => model.AddMaskedLmHead("mlm"));

        Assert.Contains("masked_lm", error.Message, StringComparison.Ordinal);
        Assert.Empty(model.HeadNames);
    }

    [Theory]
    [InlineData("gpt2", "lora")]
    [InlineData("llama", "seq_bn")]
    public void A_decoder_adapter_with_its_head_round_trips_through_pythons_folder_layout(string type, string method)
    {
        using var scope = NewDisposeScope();
        using var source = new FlexHeadModel(Decoder(type));
        source.BaseModel.AddAdapter("task", method);
        source.AddTaggingHead("task", numLabels: 4);
        using (no_grad())
            foreach (var (name, p) in source.named_parameters().Where(p => p.name.Contains(".task.", StringComparison.Ordinal)))
                p.add_(randn_like(p) * 0.05);
        source.eval();
        var ids = TinyDecoders.Prompt(batch: 2, length: 6);
        source.BaseModel.SetActiveAdapters(new Core.Composition.Stack("task"));
        using var _ = no_grad();
        var expected = source.Forward(ids, head: "task");

        source.SaveAdapter(_dir.FullName, "task");
        using var target = new FlexHeadModel(Decoder(type));
        var result = target.LoadAdapter(_dir.FullName, setActive: true);
        target.eval();

        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.True(allclose(expected, target.Forward(ids), rtol: 0, atol: 1e-6));
        Assert.Equal(type == "gpt2" ? "GPT2AdapterModel" : "LlamaAdapterModel", HeadConfigFile.Read(Path.Combine(_dir.FullName, HeadConfigFile.FileName)).ModelClass);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("qwen2")]
    public void A_causal_lm_head_scores_the_next_token_and_trains(string type)
    {
        using var scope = NewDisposeScope();
        using var model = new FlexHeadModel(Decoder(type));
        model.BaseModel.AddAdapter("task", "seq_bn");
        model.AddCausalLmHead("task");
        model.BaseModel.TrainAdapter("task");
        var ids = TinyDecoders.Prompt(batch: 2, length: 6);
        var head = model.GetHead("task");
        using var optimizer = optim.Adam(model.parameters().Where(p => p.requires_grad), lr: 1e-2);
        var losses = new List<float>();
        for (var step = 0; step < 6; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var logits = model.Forward(ids);
            var loss = head.Loss(logits, ids);
            Assert.Equal(Generation.CausalLMLoss.Compute(logits, ids).item<float>(), loss.item<float>());
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        Assert.True(losses[^1] < losses[0], string.Join(", ", losses));
    }

    [Fact]
    public void Only_a_causal_lm_head_on_a_decoder_generates()
    {
        using var scope = NewDisposeScope();
        using var decoder = new FlexHeadModel(Decoder("llama"));
        decoder.AddClassificationHead("cls");
        using var encoder = new FlexHeadModel(TinyModels.Bert());
        encoder.AddCausalLmHead("lm");

        Assert.Contains("causal_lm", Assert.Throws<ArgumentException>(() => decoder.AsCausalLM("cls")).Message, StringComparison.Ordinal);
        Assert.Contains("not a decoder", Assert.Throws<ArgumentException>(() => encoder.AsCausalLM("lm")).Message, StringComparison.Ordinal);
    }

    private static HeadConfigFile StaticHead(string modelClass, string modelType) => HeadConfigFile.Parse($$"""
        {"config": null, "hidden_size": 32, "model_class": "{{modelClass}}", "model_name": "tiny", "model_type": "{{modelType}}", "name": null, "version": "adapters.1.2.0"}
        """);

    [Fact]
    public void Static_lm_heads_of_gpt2_and_llama_become_causal_lm_heads_with_the_task_models_logits()
    {
        using var scope = NewDisposeScope();
        using var gpt2 = TinyDecoders.Gpt2();
        using var llama = TinyDecoders.Llama(TinyDecoders.LlamaConfig());
        using var gpt2Heads = new FlexHeadModel(gpt2.Transformer);
        using var llamaHeads = new FlexHeadModel(llama.Model);
        var ids = TinyDecoders.Prompt(batch: 2, length: 5);

        var fromGpt2 = gpt2Heads.LoadHeadStateDict(StaticHead("GPT2LMHeadModel", "gpt2"), new Dictionary<string, Tensor> { ["lm_head.weight"] = gpt2.Transformer.TokenEmbeddings.detach() });
        var fromLlama = llamaHeads.LoadHeadStateDict(StaticHead("LlamaForCausalLM", "llama"), new Dictionary<string, Tensor> { ["lm_head.weight"] = llama.HeadWeight.detach() });

        Assert.Empty(fromGpt2.UnexpectedKeys);
        Assert.Empty(fromLlama.UnexpectedKeys);
        Assert.Equal(["heads.default.0.weight"], llamaHeads.GetHeadStateDict("default").Keys);
        Assert.Equal("causal_lm", gpt2Heads.GetHead("default").HeadType);
        using var _ = no_grad();
        Assert.True(TinyModels.Same(gpt2.Forward(ids).Logits, gpt2Heads.AsCausalLM("default").Forward(ids).Logits));
        Assert.True(TinyModels.Same(llama.Forward(ids).Logits, llamaHeads.AsCausalLM("default").Forward(ids).Logits));
    }

    [Fact]
    public void A_static_decoder_classifier_becomes_a_biasless_classification_head_on_the_last_token()
    {
        using var scope = NewDisposeScope();
        using var model = new FlexHeadModel(Decoder("mistral"));
        model.eval();
        var score = randn(3, 32);
        var ids = tensor(new long[] { 5, 6, 7, 8, 9, 10, 0, 0 }, [2, 4]);

        model.LoadHeadStateDict(StaticHead("MistralForSequenceClassification", "mistral"), new Dictionary<string, Tensor> { ["score.weight"] = score }, "cls");

        using var _ = no_grad();
        var hidden = ((Core.Generation.IDecoderStack)model.BaseModel).Forward(ids);
        var expected = stack([hidden[0, 3], hidden[1, 1]]).matmul(score.t());
        Assert.Equal(["heads.cls.1.weight"], model.GetHeadStateDict("cls").Keys);
        Assert.True(allclose(expected, model.Forward(ids, head: "cls"), rtol: 0, atol: 1e-5));
    }
}
