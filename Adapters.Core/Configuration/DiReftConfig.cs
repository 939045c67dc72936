using System.Diagnostics.CodeAnalysis;

namespace Adapters.Core.Configuration;

/// <summary>DiReFT (alias <c>"direft"</c>): no orthogonality and no subtracted projection, <c>h + Rᵀ(Wh + b)</c>, at the first 3 positions of every layer with r=1.</summary>
public record DiReftConfig : ReftConfig
{
    /// <summary>Creates the preset with Python's defaults.</summary>
    [SetsRequiredMembers]
    public DiReftConfig()
        : base(layers: null, prefixPositions: 3, suffixPositions: 0, r: 1, orthogonality: false)
    {
        SubtractProjection = false;
    }
}
