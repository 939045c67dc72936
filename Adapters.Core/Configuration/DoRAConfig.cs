namespace Adapters.Core.Configuration;

/// <summary>DoRA (alias <c>"dora"</c>): the LoRA defaults with <c>use_dora=True</c>.</summary>
public record DoRAConfig : LoRAConfig
{
    /// <summary>Creates the preset with Python's defaults.</summary>
    public DoRAConfig()
    {
        UseDora = true;
    }
}
