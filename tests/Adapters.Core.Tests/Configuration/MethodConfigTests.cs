using System.Text.Json.Nodes;
using Adapters.Core.Configuration;

namespace Adapters.Core.Tests.Configuration;

/// <summary>Prefix tuning, prompt tuning, ReFT and the MAM/UniPELT unions against adapters-python-hub.md §2.4.</summary>
public sealed class MethodConfigTests
{
    private const string PrefixTuningReference = """{"architecture": "prefix_tuning", "bottleneck_size": 512, "cross_prefix": true, "dropout": 0.0, "encoder_prefix": true, "flat": false, "init_weights_seed": null, "leave_out": [], "non_linearity": "tanh", "prefix_length": 30, "shared_gating": true, "use_gating": false}""";

    private const string PromptTuningReference = """{"architecture": "prompt_tuning", "combine": "prefix", "init_weights_seed": null, "prompt_init": "random_uniform", "prompt_init_text": null, "prompt_length": 10}""";

    private const string LoReftReference = """{"architecture": "reft", "dropout": 0.05, "dtype": null, "init_weights_seed": null, "layers": "all", "non_linearity": null, "orthogonality": true, "output_reft": true, "prefix_positions": 3, "r": 1, "suffix_positions": 0, "tied_weights": false}""";

    private const string SeqBnReference = """{"adapter_residual_before_ln": false, "cross_adapter": false, "dropout": 0.0, "factorized_phm_W": true, "factorized_phm_rule": false, "hypercomplex_nonlinearity": "glorot-uniform", "init_weights": "bert", "init_weights_seed": null, "inv_adapter": null, "inv_adapter_reduction_factor": null, "is_parallel": false, "learn_phm": true, "leave_out": [], "ln_after": false, "ln_before": false, "mh_adapter": false, "non_linearity": "relu", "original_ln_after": true, "original_ln_before": true, "output_adapter": true, "phm_bias": true, "phm_c_init": "normal", "phm_dim": 4, "phm_init_range": 0.0001, "phm_layer": false, "phm_rank": 1, "reduction_factor": 16, "residual_before_ln": true, "scaling": 1.0, "shared_W_phm": false, "shared_phm_rule": true, "stochastic_depth": 0.0, "use_gating": false}""";

    private const string LoRAReference = """{"alpha": 8, "architecture": "lora", "attn_matrices": ["q", "v"], "composition_mode": "add", "dropout": 0.0, "dtype": null, "init_weights": "lora", "init_weights_seed": null, "intermediate_lora": false, "leave_out": [], "output_lora": false, "r": 8, "selfattn_lora": true, "use_dora": false, "use_gating": false, "vera_b": null, "vera_d": null}""";

    private static string Canonical(string json) => PythonJson.Serialize(JsonNode.Parse(json));

    private static JsonObject With(string json, params (string Key, JsonNode? Value)[] changes)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        foreach (var (key, value) in changes) node[key] = value;
        return node;
    }

    [Fact]
    public void Prefix_prompt_and_reft_presets_write_pythons_bytes()
    {
        Assert.Equal(Canonical(PrefixTuningReference), AdapterConfig.Parse("prefix_tuning").ToJsonString());
        Assert.Equal(PythonJson.Serialize(With(PrefixTuningReference, ("flat", true))), AdapterConfig.Parse("prefix_tuning_flat").ToJsonString());
        Assert.Equal(Canonical(PromptTuningReference), AdapterConfig.Parse("prompt_tuning").ToJsonString());
        Assert.Equal(Canonical(LoReftReference), AdapterConfig.Parse("loreft").ToJsonString());
        Assert.Equal(PythonJson.Serialize(With(LoReftReference, ("orthogonality", false))), AdapterConfig.Parse("noreft").ToJsonString());
    }

    [Fact]
    public void DiReft_writes_pythons_json_without_subtract_projection_and_reloads_subtracting_as_python_does()
    {
        var expected = PythonJson.Serialize(With(LoReftReference, ("orthogonality", false)));
        var direft = Assert.IsType<DiReftConfig>(AdapterConfig.Parse("direft"));

        Assert.False(direft.SubtractProjection);
        Assert.Equal(expected, direft.ToJsonString());
        var reloaded = Assert.IsType<ReftConfig>(AdapterConfig.FromJson(direft.ToJson()));
        Assert.True(reloaded.SubtractProjection);
    }

    [Fact]
    public void A_file_that_carries_subtract_projection_false_is_honoured_as_pythons_from_dict_does()
    {
        var reft = Assert.IsType<ReftConfig>(AdapterConfig.FromJson(With(LoReftReference, ("orthogonality", false), ("subtract_projection", false))));

        Assert.False(reft.SubtractProjection);
        Assert.Equal(PythonJson.Serialize(With(LoReftReference, ("orthogonality", false))), reft.ToJsonString());
    }

    [Fact]
    public void A_python_written_direft_without_the_key_reads_as_python_does()
    {
        // Python never writes subtract_projection, so its DiReFT files are NoReFT files.
        var python = AdapterConfig.FromJson(With(LoReftReference, ("orthogonality", false)));

        var reft = Assert.IsType<ReftConfig>(python);
        Assert.True(reft.SubtractProjection);
        Assert.False(reft.Orthogonality);
        Assert.Null(reft.Layers);
    }

    [Fact]
    public void Reft_layers_accept_all_or_a_list_and_reject_other_strings()
    {
        var listed = Assert.IsAssignableFrom<ReftConfig>(AdapterConfig.Parse("loreft[layers=[0, 2], suffix_positions=2, tied_weights=True]"));

        Assert.Equal([0, 2], listed.Layers!);
        Assert.Equal("[0,2]", listed.ToJson()["layers"]!.ToJsonString());
        Assert.True(listed.AppliesTo(2));
        Assert.False(listed.AppliesTo(1));
        Assert.Throws<AdapterConfigException>(() => AdapterConfig.Parse("loreft[layers='some']"));
        Assert.Throws<AdapterConfigException>(() => ReftConfig.FromDictionary(new JsonObject { ["architecture"] = "reft", ["r"] = 1 }));
    }

    [Fact]
    public void Mam_and_unipelt_are_unions_of_pythons_members()
    {
        var mam = AdapterConfig.Parse("mam").ToJson();
        var expectedMam = new JsonObject
        {
            ["architecture"] = "union",
            ["configs"] = new JsonArray(
                With(PrefixTuningReference, ("bottleneck_size", 800)),
                With(SeqBnReference, ("init_weights", "mam_adapter"), ("is_parallel", true), ("original_ln_before", false), ("reduction_factor", 2), ("scaling", 4.0))),
        };
        Assert.Equal(PythonJson.Serialize(expectedMam), PythonJson.Serialize(mam));
        Assert.Equal(PythonJson.Serialize(mam), AdapterConfig.Parse("prefix_tuning[bottleneck_size=800]|par_bn").ToJsonString());

        var unipelt = AdapterConfig.Parse("unipelt").ToJson();
        var expectedUnipelt = new JsonObject
        {
            ["architecture"] = "union",
            ["configs"] = new JsonArray(
                With(PrefixTuningReference, ("prefix_length", 10), ("use_gating", true)),
                With(SeqBnReference, ("use_gating", true)),
                With(LoRAReference, ("alpha", 2), ("use_gating", true))),
        };
        Assert.Equal(PythonJson.Serialize(expectedUnipelt), PythonJson.Serialize(unipelt));
        var reloaded = Assert.IsType<ConfigUnion>(AdapterConfig.FromJson(unipelt));
        Assert.IsType<PrefixTuningConfig>(reloaded.Configs[0]);
        Assert.Equal(PythonJson.Serialize(unipelt), reloaded.ToJsonString());
    }

    [Fact]
    public void Union_rules_allow_same_method_only_with_leave_out()
    {
        Assert.Throws<AdapterConfigException>(() => AdapterConfig.Parse("prefix_tuning|prefix_tuning_flat"));
        Assert.Throws<AdapterConfigException>(() => AdapterConfig.Parse("unipelt|lora"));
        var split = Assert.IsType<ConfigUnion>(AdapterConfig.Parse("prefix_tuning[leave_out=[0]]|prefix_tuning_flat"));
        Assert.Equal(2, split.Configs.Count);
        Assert.Equal(3, Assert.IsType<ConfigUnion>(AdapterConfig.Parse("loreft|prompt_tuning|lora")).Configs.Count);
    }

    [Fact]
    public void Prompt_tuning_replace_keeps_the_scale_out_of_the_fields()
    {
        var config = Assert.IsType<PromptTuningConfig>(AdapterConfig.Parse("prompt_tuning[prompt_init='from_string', prompt_init_text='hello', prompt_length=4]"));

        Assert.Equal("hello", config.PromptInitText);
        Assert.Equal(4, config.PromptLength);
        Assert.Throws<AdapterConfigException>(() => config.Replace(new JsonObject { ["random_uniform_scale"] = 0.1 }));
        Assert.DoesNotContain("random_uniform_scale", config.ToJsonString(), StringComparison.Ordinal);
    }
}
