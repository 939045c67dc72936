using System.Text.Json.Nodes;
using Adapters.Hub.Legacy;

namespace Adapters.Hub.Tests.Legacy;

public sealed class AdapterConfigHashTests
{
    private static readonly JsonObject s_seqBnFull = JsonNode.Parse("""
        {"adapter_residual_before_ln": false, "cross_adapter": false, "dropout": 0.0, "factorized_phm_W": true, "factorized_phm_rule": false, "hypercomplex_nonlinearity": "glorot-uniform", "init_weights": "bert", "init_weights_seed": null, "inv_adapter": null, "inv_adapter_reduction_factor": null, "is_parallel": false, "learn_phm": true, "leave_out": [], "ln_after": false, "ln_before": false, "mh_adapter": false, "non_linearity": "relu", "original_ln_after": true, "original_ln_before": true, "output_adapter": true, "phm_bias": true, "phm_c_init": "normal", "phm_dim": 4, "phm_init_range": 0.0001, "phm_layer": false, "phm_rank": 1, "reduction_factor": 16, "residual_before_ln": true, "scaling": 1.0, "shared_W_phm": false, "shared_phm_rule": true, "stochastic_depth": 0.0, "use_gating": false}
        """)!.AsObject();

    [Fact]
    public async Task Pfeiffer_minimizes_to_the_documented_text_and_id()
    {
        var architectures = await LegacyFixtures.Registry.GetArchitecturesAsync();
        var pfeiffer = architectures.Find("pfeiffer")!;

        Assert.Equal(
            """{"non_linearity": "relu", "original_ln_after": true, "original_ln_before": true, "output_adapter": true, "reduction_factor": 16, "residual_before_ln": true}""",
            AdapterConfigHash.CanonicalText(pfeiffer));
        Assert.Equal("9076f36a74755ac4", AdapterConfigHash.Compute(pfeiffer));
    }

    [Fact]
    public void The_library_seq_bn_dict_hashes_like_the_registry_pfeiffer_because_v3_defaults_are_ignored()
    {
        Assert.Equal("9076f36a74755ac4", AdapterConfigHash.Compute(s_seqBnFull));

        var doubleSeqBn = (JsonObject)s_seqBnFull.DeepClone();
        doubleSeqBn["mh_adapter"] = true;
        doubleSeqBn["non_linearity"] = "swish";
        doubleSeqBn["original_ln_before"] = false;
        Assert.Equal("b1017368d7a97b11", AdapterConfigHash.Compute(doubleSeqBn));
    }

    [Fact]
    public async Task Int_and_float_reduction_factors_give_different_ids()
    {
        var architectures = await LegacyFixtures.Registry.GetArchitecturesAsync();
        var asInt = architectures.Find("pfeiffer")!;
        asInt["reduction_factor"] = 2;
        var asFloat = architectures.Find("pfeiffer")!;
        asFloat["reduction_factor"] = 2.0;

        Assert.Equal("e15331acc3f0a5c0", AdapterConfigHash.Compute(asInt));
        Assert.Equal("a6c620158938303a", AdapterConfigHash.Compute(asFloat));
    }

    [Fact]
    public void A_non_default_v3_value_is_kept_and_an_int_equal_to_a_float_default_is_dropped()
    {
        var scaledInt = (JsonObject)s_seqBnFull.DeepClone();
        scaledInt["scaling"] = 1;
        Assert.Equal("9076f36a74755ac4", AdapterConfigHash.Compute(scaledInt));

        var phm = (JsonObject)s_seqBnFull.DeepClone();
        phm["phm_dim"] = 8;
        Assert.NotEqual("9076f36a74755ac4", AdapterConfigHash.Compute(phm));
    }

    [Fact]
    public async Task Every_registry_entry_recomputes_its_stored_config_id_from_its_card_and_from_its_dist_config()
    {
        var registry = LegacyFixtures.Registry;
        var architectures = await registry.GetArchitecturesAsync();
        var architectureCards = await registry.GetArchitectureCardsAsync();
        var cards = await registry.GetCardsAsync();
        Assert.Equal(291, cards.Count);

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var textById = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var card in cards)
        {
            var entry = await registry.FindEntryAsync(card.EntryPath);
            Assert.True(entry is not null, card.EntryPath);
            Assert.Equal(entry.ConfigId, AdapterConfigHash.Compute(architectures.Expand(card)));
            Assert.Equal(entry.ConfigId, AdapterConfigHash.Compute(architectureCards.Expand(card)));
            Assert.Equal(entry.ConfigId, AdapterConfigHash.Compute(entry.AdapterConfig));
            ids.Add(entry.ConfigId);
            var text = AdapterConfigHash.CanonicalText(architectures.Expand(card));
            Assert.Equal(textById.TryAdd(entry.ConfigId, text) ? text : textById[entry.ConfigId], text);
        }
        Assert.Equal(10, ids.Count);
        Assert.Equal(10, textById.Values.Distinct(StringComparer.Ordinal).Count());
    }
}
