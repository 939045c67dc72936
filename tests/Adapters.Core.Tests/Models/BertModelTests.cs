using Adapters.Core.Methods;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using Adapters.Core.Models.DistilBert;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

public sealed class BertModelTests
{
    [Fact]
    public void State_dict_has_exactly_the_transformers_key_names()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();

        var keys = model.state_dict().Keys.ToHashSet();

        var expected = new HashSet<string>
        {
            "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
            "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias", "pooler.dense.weight", "pooler.dense.bias",
        };
        for (var i = 0; i < 2; i++)
        {
            foreach (var name in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                         "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm" })
            {
                expected.Add($"encoder.layer.{i}.{name}.weight");
                expected.Add($"encoder.layer.{i}.{name}.bias");
            }
        }
        Assert.Equal(expected.Order(), keys.Order());
        Assert.Equal([64L, 32L], model.state_dict()["encoder.layer.1.intermediate.dense.weight"].shape);
    }

    [Fact]
    public void DistilBert_state_dict_has_the_transformers_key_names()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new DistilBertModel(TinyModels.TinyBert("distilbert"));

        var keys = model.state_dict().Keys.ToHashSet();

        Assert.Contains("embeddings.word_embeddings.weight", keys);
        Assert.Contains("transformer.layer.1.attention.q_lin.weight", keys);
        Assert.Contains("transformer.layer.1.attention.out_lin.bias", keys);
        Assert.Contains("transformer.layer.0.sa_layer_norm.weight", keys);
        Assert.Contains("transformer.layer.0.ffn.lin1.weight", keys);
        Assert.Contains("transformer.layer.0.ffn.lin2.bias", keys);
        Assert.Contains("transformer.layer.0.output_layer_norm.bias", keys);
        Assert.Equal(4 + 2 * 16, keys.Count);
    }

    [Fact]
    public void Padding_masked_out_does_not_change_the_other_positions()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var ids = TinyModels.InputIds(batch: 1, length: 5);
        var padded = cat([ids, zeros([1, 3], ScalarType.Int64)], 1);
        var mask = cat([ones([1, 5], ScalarType.Int64), zeros([1, 3], ScalarType.Int64)], 1);

        using var _ = no_grad();
        var plain = model.Forward(ids).LastHiddenState;
        var masked = model.Forward(padded, mask).LastHiddenState.narrow(1, 0, 5);

        Assert.True(allclose(plain, masked, 1e-5, 1e-5));
    }

    [Fact]
    public void Roberta_positions_start_after_the_padding_index()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var model = new RobertaModel(TinyModels.TinyBert("roberta"));
        model.eval();
        var ids = tensor(new long[] { 5, 6, 7 }).unsqueeze(0);
        var leftPadded = tensor(new long[] { 1, 1, 5, 6, 7 }).unsqueeze(0);
        var mask = tensor(new long[] { 0, 0, 1, 1, 1 }).unsqueeze(0);

        using var _ = no_grad();
        var plain = model.Forward(ids).LastHiddenState;
        var shifted = model.Forward(leftPadded, mask).LastHiddenState.narrow(1, 2, 3);

        // Position ids count only real tokens, so left padding leaves the real tokens' outputs unchanged.
        Assert.True(allclose(plain, shifted, 1e-5, 1e-5));
        Assert.Equal("roberta", model.Interface.BaseModelPrefix);
        Assert.Equal("RobertaAdapterModel", model.ModelClassName);
    }

    [Fact]
    public void Gelu_is_the_exact_erf_form_and_gelu_new_the_tanh_form()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 1.0f, -0.5f });

        var exact = Activation.Get("gelu")(x).data<float>().ToArray();
        var approx = Activation.Get("gelu_new")(x).data<float>().ToArray();

        Assert.Equal(0.8413447f, exact[0], 5);
        Assert.Equal(-0.1542687f, exact[1], 5);
        Assert.Equal(0.8411920f, approx[0], 5);
    }

    [Fact]
    public void Model_weights_load_from_an_hf_state_dict_with_or_without_prefix()
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Bert(seed: 11);
        using var target = TinyModels.Bert(seed: 12);
        var weights = source.state_dict().ToDictionary(p => "bert." + p.Key, p => p.Value);
        weights["cls.predictions.bias"] = zeros(50);

        var (missing, unexpected) = target.LoadModelStateDict(weights);

        Assert.Empty(missing);
        Assert.Equal(["cls.predictions.bias"], unexpected);
        var ids = TinyModels.InputIds();
        using var _ = no_grad();
        Assert.True(TinyModels.Same(source.Forward(ids).LastHiddenState, target.Forward(ids).LastHiddenState));
    }

    [Fact]
    public void Config_json_is_read_with_hf_names()
    {
        var bert = EncoderConfig.Parse("""{"model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "vocab_size": 119547, "type_vocab_size": 2, "_name_or_path": "bert-base-multilingual-cased"}""");
        var distil = EncoderConfig.Parse("""{"model_type": "distilbert", "dim": 768, "n_layers": 6, "n_heads": 12, "hidden_dim": 3072, "activation": "gelu", "vocab_size": 30522}""");

        Assert.Equal(119547, bert.VocabSize);
        Assert.Equal("bert", bert.BaseModelPrefix);
        Assert.Equal("bert-base-multilingual-cased", bert.NameOrPath);
        Assert.Equal(6, distil.NumHiddenLayers);
        Assert.Equal(3072, distil.IntermediateSize);
        Assert.Equal("distilbert", distil.BaseModelPrefix);
        Assert.Throws<Core.Configuration.AdapterConfigException>(() => EncoderConfig.Parse("""{"model_type": "gpt2"}"""));
    }

    [Fact]
    public void DistilBert_masked_padding_does_not_change_the_other_positions_and_adapters_run()
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        manual_seed(8);
        using var model = new DistilBertModel(TinyModels.TinyBert("distilbert"));
        model.eval();
        var ids = TinyModels.InputIds(batch: 1, length: 4);
        var padded = cat([ids, zeros([1, 2], ScalarType.Int64)], 1);
        var mask = cat([ones([1, 4], ScalarType.Int64), zeros([1, 2], ScalarType.Int64)], 1);

        using var _ = no_grad();
        Assert.True(allclose(model.Forward(ids).LastHiddenState, model.Forward(padded, mask).LastHiddenState.narrow(1, 0, 4), 1e-5, 1e-5));
        var before = model.Forward(ids).LastHiddenState;
        model.AddAdapter("x", "double_seq_bn", setActive: true);
        Assert.False(allclose(before, model.Forward(ids).LastHiddenState, 1e-6, 1e-6));
        Assert.Equal("DistilBertAdapterModel", model.ModelClassName);
    }
}
