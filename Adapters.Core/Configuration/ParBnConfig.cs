using System.Diagnostics.CodeAnalysis;

namespace Adapters.Core.Configuration;

/// <summary>The parallel adapter of He et al. (alias <c>"par_bn"</c>, formerly <c>"parallel"</c>; with <c>scaling="learned"</c> it is <c>"scaled_par_bn"</c>).</summary>
public record ParBnConfig : BnConfig
{
    /// <summary>Creates the preset with Python's defaults; change fields with <c>with</c> or <see cref="AdapterConfig.Replace"/>.</summary>
    [SetsRequiredMembers]
    public ParBnConfig()
        : base(mhAdapter: false, outputAdapter: true, reductionFactor: 2, nonLinearity: "relu")
    {
        OriginalLnBefore = false;
        OriginalLnAfter = true;
        InitWeights = "mam_adapter";
        IsParallel = true;
        Scaling = 4.0;
    }
}
