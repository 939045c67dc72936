using Adapters.Hub.Json;
using System.Text.Json.Nodes;
using Adapters.Hub.Legacy;
using Adapters.Hub.Legacy.Migration;
using Adapters.Testing;

namespace Adapters.Hub.Tests.Legacy;

public sealed class LegacyAdapterNormalizerTests
{
    // The nested config today's adapters writes for seq_bn (reference: adapters-python-hub.md §2.3).
    private const string SeqBnNested = """{"adapter_residual_before_ln": false, "cross_adapter": false, "dropout": 0.0, "factorized_phm_W": true, "factorized_phm_rule": false, "hypercomplex_nonlinearity": "glorot-uniform", "init_weights": "bert", "init_weights_seed": null, "inv_adapter": null, "inv_adapter_reduction_factor": null, "is_parallel": false, "learn_phm": true, "leave_out": [], "ln_after": false, "ln_before": false, "mh_adapter": false, "non_linearity": "relu", "original_ln_after": true, "original_ln_before": true, "output_adapter": true, "phm_bias": true, "phm_c_init": "normal", "phm_dim": 4, "phm_init_range": 0.0001, "phm_layer": false, "phm_rank": 1, "reduction_factor": 16, "residual_before_ln": true, "scaling": 1.0, "shared_W_phm": false, "shared_phm_rule": true, "stochastic_depth": 0.0, "use_gating": false}""";

    [Fact]
    public async Task A_v2_registry_config_becomes_the_current_33_key_seq_bn_config()
    {
        var architectures = await LegacyFixtures.Registry.GetArchitecturesAsync();
        var saved = new JsonObject { ["config"] = architectures.Find("pfeiffer"), ["name"] = "sst", ["type"] = "text_task", ["model_class"] = "BertModelWithHeads" };

        var normalized = LegacyAdapterNormalizer.NormalizeAdapterConfig(saved);

        Assert.Equal(SeqBnNested, PythonJson.Dumps(normalized["config"]));
        Assert.Equal("adapters.1.2.0", normalized["version"]!.GetValue<string>());
        Assert.Equal("BertAdapterModel", normalized["model_class"]!.GetValue<string>());
        Assert.False(normalized.ContainsKey("type"));
        Assert.Equal("9076f36a74755ac4", AdapterConfigHash.Compute(normalized["config"]!.AsObject()));
    }

    [Theory]
    [InlineData(false, "gelu", "gelu_new")]
    [InlineData(false, "gelu_orig", "gelu")]
    [InlineData(true, "gelu", "gelu")]
    [InlineData(false, "relu", "relu")]
    public void Gelu_is_renamed_only_for_configs_without_a_version(bool hasVersion, string before, string after)
    {
        var saved = JsonNode.Parse($$"""{"config": {"mh_adapter": false, "output_adapter": true, "reduction_factor": 2, "non_linearity": "{{before}}"}, "name": "x"}""")!.AsObject();
        if (hasVersion) saved["version"] = "3.1.0";

        var normalized = LegacyAdapterNormalizer.NormalizeAdapterConfig(saved);

        Assert.Equal(after, normalized["config"]!["non_linearity"]!.GetValue<string>());
    }

    [Fact]
    public void The_v1_invertible_adapter_block_becomes_the_flat_fields()
    {
        var saved = JsonNode.Parse("""{"config": {"mh_adapter": false, "output_adapter": true, "reduction_factor": 16, "non_linearity": "relu", "original_ln_before": true, "invertible_adapter": {"block_type": "nice", "non_linearity": "relu", "reduction_factor": 2}}}""")!.AsObject();

        var config = LegacyAdapterNormalizer.NormalizeAdapterConfig(saved)["config"]!.AsObject();

        Assert.Equal("nice", config["inv_adapter"]!.GetValue<string>());
        Assert.Equal(2, config["inv_adapter_reduction_factor"]!.GetValue<int>());
        Assert.False(config.ContainsKey("invertible_adapter"));
        Assert.Equal("9ed5b5a29de19b71", AdapterConfigHash.Compute(config));
    }

    [Fact]
    public async Task A_python_written_adapter_transformers_folder_is_normalised_and_written_as_python_writes_json()
    {
        var source = LegacyFixtures.NewTempFolder();
        foreach (var name in new[] { "adapter_config.json", "head_config.json" })
        {
            File.Copy(TestPaths.Fixture("legacy-hub", "python-written", "adapter1", name), Path.Combine(source, name));
        }
        File.WriteAllText(Path.Combine(source, "pytorch_adapter.bin"), "weights");
        var destination = LegacyFixtures.NewTempFolder();

        var written = await LegacyAdapterNormalizer.NormalizeFolderAsync(source, destination);

        Assert.Equal(["adapter_config.json", "head_config.json", "pytorch_adapter.bin"], written);
        var text = File.ReadAllText(Path.Combine(destination, "adapter_config.json"));
        Assert.StartsWith("{\n  \"config\": {\n    \"adapter_residual_before_ln\": false,", text, StringComparison.Ordinal);
        Assert.EndsWith("\n  \"version\": \"adapters.1.2.0\"\n}", text, StringComparison.Ordinal);
        var config = JsonNode.Parse(text)!;
        Assert.Equal("relu", config["config"]!["non_linearity"]!.GetValue<string>());
        Assert.Equal("BigBirdAdapterModel", config["model_class"]!.GetValue<string>());
        Assert.Equal(33, config["config"]!.AsObject().Count);
        var head = File.ReadAllText(Path.Combine(destination, "head_config.json"));
        Assert.Contains("\"\\ud83d\\udc4d\": 1", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_without_weights_is_rejected_by_name()
    {
        var source = LegacyFixtures.NewTempFolder();
        File.WriteAllText(Path.Combine(source, "adapter_config.json"), "{}");

        var error = await Assert.ThrowsAsync<LegacyArchiveException>(() => LegacyAdapterNormalizer.NormalizeFolderAsync(source, LegacyFixtures.NewTempFolder()));

        Assert.Contains("pytorch_adapter.bin", error.Message, StringComparison.Ordinal);
    }
}
