using System.Diagnostics.CodeAnalysis;

namespace Adapters.Core.Configuration;

/// <summary>LoReFT (alias <c>"loreft"</c>): an orthonormal projection R, <c>h + Rᵀ(Wh + b − Rh)</c>, at the first 3 positions of every layer with r=1.</summary>
public record LoReftConfig : ReftConfig
{
    /// <summary>Creates the preset with Python's defaults.</summary>
    [SetsRequiredMembers]
    public LoReftConfig()
        : base(layers: null, prefixPositions: 3, suffixPositions: 0, r: 1, orthogonality: true)
    {
    }
}
