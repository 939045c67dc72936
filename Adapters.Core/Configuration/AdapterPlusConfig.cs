using System.Diagnostics.CodeAnalysis;

namespace Adapters.Core.Configuration;

/// <summary>Adapter+ of Steitz and Roth (no string alias): houlsby init, channel-wise scaling and stochastic depth, no post-add LayerNorm.</summary>
public record AdapterPlusConfig : BnConfig
{
    /// <summary>Creates the preset with Python's defaults; change fields with <c>with</c> or <see cref="AdapterConfig.Replace"/>.</summary>
    [SetsRequiredMembers]
    public AdapterPlusConfig()
        : base(mhAdapter: false, outputAdapter: true, reductionFactor: 96, nonLinearity: "gelu")
    {
        OriginalLnBefore = true;
        OriginalLnAfter = false;
        ResidualBeforeLn = System.Text.Json.Nodes.JsonValue.Create(false);
        StochasticDepth = 0.1;
        InitWeights = "houlsby";
        Scaling = BottleneckScaling.Channel;
    }
}
