using Adapters.Core.Configuration;
using Adapters.Hub.Legacy;

namespace Adapters.Hub.Tests.Legacy;

/// <summary>Config ids Python computes for the prefix, prompt and ReFT presets (adapters-python-hub.md §2.4).</summary>
public sealed class MethodConfigHashTests
{
    [Theory]
    [InlineData("prefix_tuning", "648bf22f5afeaaa6")]
    [InlineData("prefix_tuning_flat", "d61d9a6e9c3974ea")]
    [InlineData("prompt_tuning", "8e35d5049bb12364")]
    [InlineData("loreft", "141e29e6c21f7261")]
    [InlineData("noreft", "df69f184fdb72464")]
    public void Presets_hash_like_python(string alias, string expected)
    {
        Assert.Equal(expected, AdapterConfigHash.Compute(AdapterConfig.Parse(alias).ToJson()));
    }

    [Fact]
    public void DiReft_keeps_pythons_id_because_its_json_is_pythons()
    {
        // Python never writes subtract_projection, so DiReFT's JSON (and id) is NoReFT's.
        var direft = AdapterConfig.Parse("direft").ToJson();

        Assert.False(direft.ContainsKey("subtract_projection"));
        Assert.Equal("df69f184fdb72464", AdapterConfigHash.Compute(direft));
    }
}
