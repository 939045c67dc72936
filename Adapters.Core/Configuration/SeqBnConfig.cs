using System.Diagnostics.CodeAnalysis;

namespace Adapters.Core.Configuration;

/// <summary>The sequential bottleneck adapter of Pfeiffer et al. (alias <c>"seq_bn"</c>, formerly <c>"pfeiffer"</c>): one adapter after the FFN that re-applies the pretrained LayerNorm before it.</summary>
public record SeqBnConfig : BnConfig
{
    /// <summary>Creates the preset with Python's defaults; change fields with <c>with</c> or <see cref="AdapterConfig.Replace"/>.</summary>
    [SetsRequiredMembers]
    public SeqBnConfig()
        : base(mhAdapter: false, outputAdapter: true, reductionFactor: 16, nonLinearity: "relu")
    {
        OriginalLnBefore = true;
        OriginalLnAfter = true;
        ResidualBeforeLn = System.Text.Json.Nodes.JsonValue.Create(true);
    }
}
