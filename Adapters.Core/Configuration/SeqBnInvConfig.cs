using System.Diagnostics.CodeAnalysis;

namespace Adapters.Core.Configuration;

/// <summary><see cref="SeqBnConfig"/> plus a NICE invertible adapter on the embeddings (alias <c>"seq_bn_inv"</c>, formerly <c>"pfeiffer+inv"</c>).</summary>
public record SeqBnInvConfig : SeqBnConfig
{
    /// <summary>Creates the preset with Python's defaults.</summary>
    [SetsRequiredMembers]
    public SeqBnInvConfig()
    {
        InvAdapter = "nice";
        InvAdapterReductionFactor = 2;
    }
}
