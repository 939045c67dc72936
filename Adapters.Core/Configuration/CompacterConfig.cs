using System.Diagnostics.CodeAnalysis;

namespace Adapters.Core.Configuration;

/// <summary>Compacter (alias <c>"compacter"</c>): <see cref="DoubleSeqBnConfig"/> with PHM layers, reduction 32 and GELU.</summary>
public record CompacterConfig : DoubleSeqBnConfig
{
    /// <summary>Creates the preset with Python's defaults.</summary>
    [SetsRequiredMembers]
    public CompacterConfig()
    {
        PhmLayer = true;
        ReductionFactor = 32;
        NonLinearity = "gelu";
    }
}
