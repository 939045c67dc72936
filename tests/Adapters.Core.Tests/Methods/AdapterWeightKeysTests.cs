using Adapters.Core.Methods;

namespace Adapters.Core.Tests.Methods;

public sealed class AdapterWeightKeysTests
{
    [Theory]
    [InlineData("bert.encoder.layer.0.output.adapters.a.adapter_down.0.weight", true)]
    [InlineData("bert.invertible_adapters.a.F.0.weight", true)]
    [InlineData("transformer.h.0.attn.c_attn.loras.a.lora_A", true)]
    [InlineData("model.layers.1.reft_layer.refts.a.units.0.learned_source.bias", true)]
    [InlineData("bert.prefix_tuning.prefix_tunings.a.self_prefix.wte.weight", true)]
    [InlineData("bert.encoder.layer.0.attention.self.prefix_tuning.prefix_gates.a.weight", true)]
    [InlineData("bert.shared_parameters.a.phm_rule", true)]
    [InlineData("bert.prompt_tuning.prompt_tunings.a.prompt_embedding.weight", true)]
    [InlineData("bert.encoder.layer.0.output.adapters.ab.adapter_down.0.weight", false)]
    [InlineData("bert.encoder.layer.0.output.adapter_fusion_layer.a,b.query.weight", false)]
    [InlineData("bert.encoder.layer.0.output.dense.weight", false)]
    public void A_key_belongs_to_an_adapter_only_inside_a_method_container_under_its_exact_name(string key, bool belongs) =>
        Assert.Equal(belongs, AdapterWeightKeys.BelongsTo(key, "a"));

    [Fact]
    public void Renaming_touches_the_adapter_name_in_its_container_only()
    {
        Assert.Equal("bert.encoder.layer.0.output.adapters.b.adapter_up.weight",
            AdapterWeightKeys.RenameAll("bert.encoder.layer.0.output.adapters.a.adapter_up.weight", "a", "b"));
        Assert.Equal("bert.prompt_tuning.prompt_tunings.b.prompt_embedding.weight",
            AdapterWeightKeys.RenameFirst("bert.prompt_tuning.prompt_tunings.a.prompt_embedding.weight", "a", "b"));
        // "a" inside "ab" or in a module name stays.
        Assert.Equal("bert.a.loras.ab.lora_A", AdapterWeightKeys.RenameAll("bert.a.loras.ab.lora_A", "a", "b"));
        Assert.True(AdapterWeightKeys.IsSharedParameter("bert.shared_parameters.v.lora_A", "v"));
        Assert.True(AdapterWeightKeys.IsFusion("h.0.output_adapters.adapter_fusion_layer.a,b.value.weight"));
        Assert.True(AdapterWeightKeys.IsFusion("adapter_fusion_layer.a,b.value.weight"));
    }
}
