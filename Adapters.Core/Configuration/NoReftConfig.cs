using System.Diagnostics.CodeAnalysis;

namespace Adapters.Core.Configuration;

/// <summary>NoReFT (alias <c>"noreft"</c>): LoReFT without the orthogonality constraint on R, at the first 3 positions of every layer with r=1.</summary>
public record NoReftConfig : ReftConfig
{
    /// <summary>Creates the preset with Python's defaults.</summary>
    [SetsRequiredMembers]
    public NoReftConfig()
        : base(layers: null, prefixPositions: 3, suffixPositions: 0, r: 1, orthogonality: false)
    {
    }
}
