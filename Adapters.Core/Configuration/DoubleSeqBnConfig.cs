using System.Diagnostics.CodeAnalysis;

namespace Adapters.Core.Configuration;

/// <summary>The Houlsby et al. adapter (alias <c>"double_seq_bn"</c>, formerly <c>"houlsby"</c>): adapters after attention and after the FFN, with swish.</summary>
public record DoubleSeqBnConfig : BnConfig
{
    /// <summary>Creates the preset with Python's defaults; change fields with <c>with</c> or <see cref="AdapterConfig.Replace"/>.</summary>
    [SetsRequiredMembers]
    public DoubleSeqBnConfig()
        : base(mhAdapter: true, outputAdapter: true, reductionFactor: 16, nonLinearity: "swish")
    {
        OriginalLnBefore = false;
        OriginalLnAfter = true;
    }
}
