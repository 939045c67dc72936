namespace Adapters.Core.Configuration;

/// <summary>VeRA (alias <c>"vera"</c>): frozen shared random A and B with trainable diagonal scalers, d = 0.1, b = 0.</summary>
public record VeraConfig : LoRAConfig
{
    /// <summary>Creates the preset with Python's defaults.</summary>
    public VeraConfig()
    {
        R = 8;
        VeraD = 0.1;
        VeraB = 0.0;
        InitWeights = "vera";
    }
}
