namespace Adapters.Core.Configuration;

/// <summary>
/// IA³ (alias <c>"ia3"</c>): learned rescaling vectors on k, v and — as the Python code does, unlike its docs — the
/// intermediate projection, applied before the activation.
/// </summary>
public record IA3Config : LoRAConfig
{
    /// <summary>Creates the preset with Python's defaults.</summary>
    public IA3Config()
    {
        SelfattnLora = true;
        IntermediateLora = true;
        OutputLora = false;
        R = 1;
        Alpha = 1;
        AttnMatrices = ["k", "v"];
        CompositionMode = "scale";
        InitWeights = "ia3";
    }
}
