using System.Diagnostics.CodeAnalysis;

namespace Adapters.Core.Configuration;

/// <summary><see cref="DoubleSeqBnConfig"/> plus a NICE invertible adapter (alias <c>"double_seq_bn_inv"</c>, formerly <c>"houlsby+inv"</c>).</summary>
public record DoubleSeqBnInvConfig : DoubleSeqBnConfig
{
    /// <summary>Creates the preset with Python's defaults.</summary>
    [SetsRequiredMembers]
    public DoubleSeqBnInvConfig()
    {
        InvAdapter = "nice";
        InvAdapterReductionFactor = 2;
    }
}
