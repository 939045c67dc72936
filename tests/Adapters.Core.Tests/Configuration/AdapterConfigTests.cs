using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Testing;

namespace Adapters.Core.Tests.Configuration;

public sealed class AdapterConfigTests
{
    // adapters-python-hub.md §2.3: the complete seq_bn config Python 1.2.0 writes.
    private const string SeqBnReference = """{"adapter_residual_before_ln": false, "cross_adapter": false, "dropout": 0.0, "factorized_phm_W": true, "factorized_phm_rule": false, "hypercomplex_nonlinearity": "glorot-uniform", "init_weights": "bert", "init_weights_seed": null, "inv_adapter": null, "inv_adapter_reduction_factor": null, "is_parallel": false, "learn_phm": true, "leave_out": [], "ln_after": false, "ln_before": false, "mh_adapter": false, "non_linearity": "relu", "original_ln_after": true, "original_ln_before": true, "output_adapter": true, "phm_bias": true, "phm_c_init": "normal", "phm_dim": 4, "phm_init_range": 0.0001, "phm_layer": false, "phm_rank": 1, "reduction_factor": 16, "residual_before_ln": true, "scaling": 1.0, "shared_W_phm": false, "shared_phm_rule": true, "stochastic_depth": 0.0, "use_gating": false}""";

    private const string LoRAReference = """{"alpha": 8, "architecture": "lora", "attn_matrices": ["q", "v"], "composition_mode": "add", "dropout": 0.0, "dtype": null, "init_weights": "lora", "init_weights_seed": null, "intermediate_lora": false, "leave_out": [], "output_lora": false, "r": 8, "selfattn_lora": true, "use_dora": false, "use_gating": false, "vera_b": null, "vera_d": null}""";

    private const string IA3Reference = """{"alpha": 1, "architecture": "lora", "attn_matrices": ["k", "v"], "composition_mode": "scale", "dropout": 0.0, "dtype": null, "init_weights": "ia3", "init_weights_seed": null, "intermediate_lora": true, "leave_out": [], "output_lora": false, "r": 1, "selfattn_lora": true, "use_dora": false, "use_gating": false, "vera_b": null, "vera_d": null}""";

    [Fact]
    public void SeqBn_writes_the_same_bytes_as_python()
    {
        var expected = PythonJson.Serialize(JsonNode.Parse(SeqBnReference));

        Assert.Equal(expected, new SeqBnConfig().ToJsonString());
        Assert.Contains("\"scaling\": 1.0,", expected, StringComparison.Ordinal);
        Assert.Contains("\"phm_init_range\": 0.0001,", expected, StringComparison.Ordinal);
    }

    [Fact]
    public void LoRA_and_IA3_write_the_same_bytes_as_python()
    {
        Assert.Equal(PythonJson.Serialize(JsonNode.Parse(LoRAReference)), new LoRAConfig().ToJsonString());
        Assert.Equal(PythonJson.Serialize(JsonNode.Parse(IA3Reference)), new IA3Config().ToJsonString());
    }

    [Theory]
    [InlineData("double_seq_bn", """{"mh_adapter": true, "non_linearity": "swish", "original_ln_before": false}""")]
    [InlineData("par_bn", """{"init_weights": "mam_adapter", "is_parallel": true, "original_ln_before": false, "reduction_factor": 2, "scaling": 4.0}""")]
    [InlineData("scaled_par_bn", """{"init_weights": "mam_adapter", "is_parallel": true, "original_ln_before": false, "reduction_factor": 2, "scaling": "learned"}""")]
    [InlineData("compacter", """{"mh_adapter": true, "non_linearity": "gelu", "original_ln_before": false, "phm_layer": true, "reduction_factor": 32}""")]
    [InlineData("compacter++", """{"non_linearity": "gelu", "phm_layer": true, "reduction_factor": 32}""")]
    [InlineData("seq_bn_inv", """{"inv_adapter": "nice", "inv_adapter_reduction_factor": 2}""")]
    [InlineData("double_seq_bn_inv", """{"mh_adapter": true, "non_linearity": "swish", "original_ln_before": false, "inv_adapter": "nice", "inv_adapter_reduction_factor": 2}""")]
    [InlineData("pfeiffer", "{}")]
    [InlineData("houlsby", """{"mh_adapter": true, "non_linearity": "swish", "original_ln_before": false}""")]
    [InlineData("parallel", """{"init_weights": "mam_adapter", "is_parallel": true, "original_ln_before": false, "reduction_factor": 2, "scaling": 4.0}""")]
    public void Bottleneck_presets_differ_from_seq_bn_exactly_as_documented(string alias, string differences)
    {
        var expected = JsonNode.Parse(SeqBnReference)!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(differences)!.AsObject()) expected[key] = value?.DeepClone();

        Assert.Equal(PythonJson.Serialize(expected), AdapterConfig.Parse(alias).ToJsonString());
    }

    [Fact]
    public void AdapterPlus_has_its_documented_fields()
    {
        var json = new AdapterPlusConfig().ToJson();

        Assert.Equal("houlsby", json["init_weights"]!.GetValue<string>());
        Assert.Equal("channel", json["scaling"]!.GetValue<string>());
        Assert.Equal("0.1", PythonJson.FormatFloat(json["stochastic_depth"]!.GetValue<double>()));
        Assert.Equal("96", PythonJson.Serialize(json["reduction_factor"]));
        Assert.False(json["original_ln_after"]!.GetValue<bool>());
        Assert.False(json["residual_before_ln"]!.GetValue<bool>());
    }

    [Fact]
    public void Config_string_with_arguments_and_union_matches_python_semantics()
    {
        var config = AdapterConfig.Parse("lora[r=16, alpha=32, attn_matrices=['q','k','v']]|par_bn");

        var union = Assert.IsType<ConfigUnion>(config);
        var lora = Assert.IsType<LoRAConfig>(union.Configs[0]);
        Assert.Equal(16, lora.R);
        Assert.Equal(32, lora.Alpha);
        Assert.Equal(["q", "k", "v"], lora.AttnMatrices);
        Assert.IsType<ParBnConfig>(union.Configs[1]);
        Assert.Equal("union", config.ToJson()["architecture"]!.GetValue<string>());
    }

    [Fact]
    public void Config_string_values_are_python_literals()
    {
        var config = (BnConfig)AdapterConfig.Parse("seq_bn[reduction_factor={'1': 8, 'default': 16}, dropout=0.1, leave_out=(0, 11), inv_adapter=None, scaling='learned']");

        Assert.Equal(8, config.ReductionFactor.ForLayer(1));
        Assert.Equal(16, config.ReductionFactor.ForLayer(2));
        Assert.Equal(0.1, config.Dropout);
        Assert.Equal([0, 11], config.LeaveOut);
        Assert.Equal("learned", config.Scaling.Mode);
    }

    [Theory]
    [InlineData("no_such_adapter")]
    [InlineData("lora[foo=1]")]
    [InlineData("lora[r='eight']")]
    [InlineData("seq_bn[scaling=1]")]
    [InlineData("lora[r=8")]
    [InlineData("seq_bn|seq_bn")]
    [InlineData("prefix_tuning|prefix_tuning")]
    [InlineData("loreft|noreft")]
    [InlineData("mtl_lora[task_specific_matrix_type=3]")]
    public void Invalid_config_strings_raise_a_typed_error(string text)
    {
        Assert.Throws<AdapterConfigException>(() => AdapterConfig.Parse(text));
    }

    [Fact]
    public void Two_bottlenecks_at_different_locations_form_a_valid_union()
    {
        var config = AdapterConfig.Parse("seq_bn|seq_bn[mh_adapter=True, output_adapter=False]");

        Assert.Equal(2, Assert.IsType<ConfigUnion>(config).Configs.Count);
    }

    [Fact]
    public void Reading_a_python_written_adapter_config_gives_the_seq_bn_values()
    {
        var file = AdapterConfigFile.Read(TestPaths.Fixture("models", "python-written", "md_crosslingual", "adapter_config.json"));

        var config = Assert.IsType<BnConfig>(file.GetConfig());

        Assert.Equal("md", file.Name);
        Assert.Equal("adapters.1.0.1", file.Version);
        Assert.Equal(768, file.HiddenSize);
        var fromFile = file.Document["config"]!.AsObject();
        var written = config.ToJson();
        foreach (var (key, value) in fromFile)
            Assert.Equal(PythonJson.Serialize(value), PythonJson.Serialize(written[key]));
        Assert.Equal(new SeqBnConfig().ToJsonString(), config.ToJsonString());
    }

    [Fact]
    public void Loading_a_dict_yields_the_base_class_like_python()
    {
        var loaded = AdapterConfig.FromJson(new IA3Config().ToJson());

        Assert.Equal(typeof(LoRAConfig), loaded.GetType());
        Assert.Equal(new IA3Config().ToJsonString(), loaded.ToJsonString());
    }

    [Fact]
    public void Unknown_keys_survive_a_round_trip_and_replace_rejects_them()
    {
        var json = new SeqBnConfig().ToJson();
        json["my_custom"] = "kept";

        var config = AdapterConfig.FromJson(json);

        Assert.Contains("\"my_custom\": \"kept\"", config.ToJsonString(), StringComparison.Ordinal);
        Assert.Throws<AdapterConfigException>(() => new SeqBnConfig().Replace(new JsonObject { ["my_custom"] = 1 }));
    }

    [Fact]
    public void Configs_without_version_get_the_old_activation_names_renamed()
    {
        var json = new JsonObject { ["config"] = new CompacterConfig().ToJson(), ["name"] = "x" };

        var config = (BnConfig)AdapterConfigFile.Parse(PythonJson.Serialize(json)).GetConfig();

        Assert.Equal("gelu_new", config.NonLinearity);
    }

    [Fact]
    public void Every_alias_builds_and_survives_a_json_round_trip()
    {
        foreach (var alias in AdapterConfigMap.Names)
        {
            var config = AdapterConfig.Parse(alias);
            var reloaded = AdapterConfig.FromJson(JsonNode.Parse(config.ToJsonString())!.AsObject());
            Assert.Equal(config.ToJsonString(), reloaded.ToJsonString());
        }
    }

    [Fact]
    public void LoRA_saved_before_adapters_1_1_gets_alpha_equal_to_r_like_python()
    {
        var old = new JsonObject { ["config"] = new LoRAConfig { R = 8, Alpha = 16 }.ToJson(), ["name"] = "x", ["version"] = "adapters.1.0.1" };
        var current = new JsonObject { ["config"] = new LoRAConfig { R = 8, Alpha = 16 }.ToJson(), ["name"] = "x", ["version"] = "adapters.1.2.0" };

        Assert.Equal(8, ((LoRAConfig)AdapterConfigFile.Parse(PythonJson.Serialize(old)).GetConfig()).Alpha);
        Assert.Equal(16, ((LoRAConfig)AdapterConfigFile.Parse(PythonJson.Serialize(current)).GetConfig()).Alpha);
    }
}
