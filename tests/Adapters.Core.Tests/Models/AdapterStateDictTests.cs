using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Models.DistilBert;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

public sealed class AdapterStateDictTests
{
    [Fact]
    public void LoRA_keys_are_pythons_full_paths()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("x", "lora[intermediate_lora=True, output_lora=True]");

        var keys = model.GetAdapterStateDict("x");

        Assert.Equal([8L, 32L], keys["bert.encoder.layer.0.attention.self.query.loras.x.lora_A"].shape);
        Assert.Equal([32L, 8L], keys["bert.encoder.layer.0.attention.self.value.loras.x.lora_B"].shape);
        Assert.Equal([64L, 8L], keys["bert.encoder.layer.1.intermediate.dense.loras.x.lora_B"].shape);
        Assert.Equal([8L, 64L], keys["bert.encoder.layer.1.output.dense.loras.x.lora_A"].shape);
        Assert.Equal(2 * 4 * 2, keys.Count);
    }

    [Fact]
    public void Method_option_keys_follow_python()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("ia", "ia3");
        model.AddAdapter("d", "dora");
        model.AddAdapter("v", "vera");
        model.AddAdapter("c", "compacter[reduction_factor=4]");
        model.AddAdapter("s", "scaled_par_bn[ln_before=True, ln_after=True, use_gating=True]");
        model.AddAdapter("inv", "seq_bn_inv");

        Assert.Equal([32L, 1L], model.GetAdapterStateDict("ia")["bert.encoder.layer.0.attention.self.key.loras.ia.lora_B"].shape);
        Assert.Equal([64L, 1L], model.GetAdapterStateDict("ia")["bert.encoder.layer.0.intermediate.dense.loras.ia.lora_B"].shape);
        Assert.Equal([32L, 1L], model.GetAdapterStateDict("d")["bert.encoder.layer.0.attention.self.query.loras.d.m.weight"].shape);
        var vera = model.GetAdapterStateDict("v");
        Assert.Equal([8L, 8L], vera["bert.encoder.layer.0.attention.self.query.loras.v.vera_D"].shape);
        Assert.Equal([32L, 32L], vera["bert.encoder.layer.0.attention.self.query.loras.v.vera_B"].shape);
        Assert.Equal([8L, 32L], vera["bert.shared_parameters.v.lora_A"].shape);
        var compacter = model.GetAdapterStateDict("c");
        Assert.Equal([4L, 8L, 1L], compacter["bert.encoder.layer.0.attention.output.adapters.c.adapter_down.0.W_left"].shape);
        Assert.Equal([4L, 1L, 2L], compacter["bert.encoder.layer.0.attention.output.adapters.c.adapter_down.0.W_right"].shape);
        Assert.Equal([8L], compacter["bert.encoder.layer.0.output.adapters.c.adapter_down.0.b"].shape);
        Assert.Equal([4L, 4L, 4L], compacter["bert.shared_parameters.c.phm_rule"].shape);
        var scaled = model.GetAdapterStateDict("s");
        Assert.Contains("bert.encoder.layer.0.output.adapters.s.adapter_norm_before.weight", scaled.Keys);
        Assert.Contains("bert.encoder.layer.0.output.adapters.s.adapter_down.0.weight", scaled.Keys);
        Assert.Equal([16L, 32L], scaled["bert.encoder.layer.0.output.adapters.s.adapter_down.1.weight"].shape);
        Assert.Contains("bert.encoder.layer.0.output.adapters.s.adapter_norm_after.bias", scaled.Keys);
        Assert.Equal([1L, 32L], scaled["bert.encoder.layer.0.output.adapters.s.gate.weight"].shape);
        Assert.Equal([1L], scaled["bert.encoder.layer.0.output.adapters.s.scaling"].shape);
        var inv = model.GetAdapterStateDict("inv");
        Assert.Equal([8L, 16L], inv["bert.invertible_adapters.inv.F.0.weight"].shape);
        Assert.Equal([16L, 8L], inv["bert.invertible_adapters.inv.G.2.weight"].shape);
    }

    [Fact]
    public void DistilBert_uses_the_wrapper_module_names()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new DistilBertModel(TinyModels.TinyBert("distilbert"));
        model.AddAdapter("x", "double_seq_bn|lora");

        var keys = model.GetAdapterStateDict("x").Keys.ToHashSet();

        Assert.Contains("distilbert.transformer.layer.0.attention_adapters.adapters.x.adapter_down.0.weight", keys);
        Assert.Contains("distilbert.transformer.layer.1.output_adapters.adapters.x.adapter_up.bias", keys);
        Assert.Contains("distilbert.transformer.layer.1.attention.q_lin.loras.x.lora_A", keys);
        Assert.Contains("distilbert.transformer.layer.1.attention.v_lin.loras.x.lora_B", keys);
    }

    [Fact]
    public void Saved_state_and_config_load_into_a_fresh_model_with_identical_outputs()
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Bert(seed: 21);
        source.AddAdapter("task", "lora[init_weights='bert', intermediate_lora=True]|seq_bn|seq_bn_inv[mh_adapter=True, output_adapter=False]", setActive: true);
        var configJson = source.CreateAdapterConfigFile("task").ToJsonString();
        var weights = source.GetAdapterStateDict("task").ToDictionary(p => p.Key, p => p.Value.clone());
        using var target = TinyModels.Bert(seed: 21);

        var result = target.LoadAdapterStateDict(AdapterConfigFile.Parse(configJson), weights, setActive: true);

        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        var ids = TinyModels.InputIds();
        using var _ = no_grad();
        Assert.True(TinyModels.Same(source.Forward(ids).LastHiddenState, target.Forward(ids).LastHiddenState));
        Assert.Equal(source.AdapterSummary(), target.AdapterSummary());
    }

    [Fact]
    public void Loading_handles_missing_prefix_and_legacy_module_names_and_fails_on_missing_keys()
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Bert();
        source.AddAdapter("old", "seq_bn");
        var file = source.CreateAdapterConfigFile("old");
        var legacy = source.GetAdapterStateDict("old").ToDictionary(
            p => p.Key["bert.".Length..].Replace(".output.adapters.", ".output.layer_text_task_adapters.", StringComparison.Ordinal),
            p => p.Value);
        legacy["encoder.layer.0.output.something_else"] = zeros(1);

        using var target = TinyModels.Bert();
        var result = target.LoadAdapterStateDict(file, legacy, loadAs: "new");

        Assert.Empty(result.MissingKeys);
        Assert.Equal(["encoder.layer.0.output.something_else"], result.UnexpectedKeys);

        var incomplete = legacy.Where(p => !p.Key.Contains("layer.1.", StringComparison.Ordinal)).ToDictionary();
        using var third = TinyModels.Bert();
        var error = Assert.Throws<AdapterLoadException>(() => third.LoadAdapterStateDict(file, incomplete));
        Assert.Contains("bert.encoder.layer.1.output.adapters.old.adapter_up.weight", error.Message, StringComparison.Ordinal);
        Assert.False(third.HasAdapter("old"));
    }

    [Fact]
    public void Adapter_config_file_for_a_new_adapter_has_pythons_top_level_keys()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("sst2", "seq_bn");

        var json = model.CreateAdapterConfigFile("sst2").ToJsonString();

        var expectedTail = "\n  },\n  \"hidden_size\": 32,\n  \"model_class\": \"BertAdapterModel\",\n  \"model_name\": \"\",\n  \"model_type\": \"bert\",\n  \"name\": \"sst2\",\n  \"version\": \"adapters.1.2.0\"\n}";
        Assert.EndsWith(expectedTail, json, StringComparison.Ordinal);
        Assert.StartsWith("{\n  \"config\": {\n    \"adapter_residual_before_ln\": false,", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Delete_removes_every_module_and_key()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        var keysBefore = model.state_dict().Keys.Order().ToArray();
        model.AddAdapter("x", "compacter[reduction_factor=4, mh_adapter=False]|lora|seq_bn_inv[mh_adapter=True, output_adapter=False]", setActive: true);

        model.DeleteAdapter("x");

        Assert.Equal(keysBefore, model.state_dict().Keys.Order().ToArray());
        Assert.Empty(model.Setup.Names);
        Assert.Throws<ArgumentException>(() => model.GetAdapterStateDict("x"));
    }
}
