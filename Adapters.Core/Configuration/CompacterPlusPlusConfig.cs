using System.Diagnostics.CodeAnalysis;

namespace Adapters.Core.Configuration;

/// <summary>Compacter++ (alias <c>"compacter++"</c>): <see cref="SeqBnConfig"/> with PHM layers, reduction 32 and GELU.</summary>
public record CompacterPlusPlusConfig : SeqBnConfig
{
    /// <summary>Creates the preset with Python's defaults.</summary>
    [SetsRequiredMembers]
    public CompacterPlusPlusConfig()
    {
        PhmLayer = true;
        ReductionFactor = 32;
        NonLinearity = "gelu";
    }
}
