namespace Adapters.Core.Configuration;

/// <summary>
/// UniPELT (Python's <c>UniPELTConfig</c>, alias <c>"unipelt"</c>): prefix tuning (length 10), a sequential bottleneck
/// (reduction factor 16) and LoRA (r=8, alpha=2), each with <c>use_gating=True</c> so learned gates weigh the methods.
/// Saved as a plain union, so it reads back as a <see cref="ConfigUnion"/>.
/// </summary>
public sealed record UniPELTConfig : ConfigUnion
{
    /// <summary>Creates the union; every part gets <c>use_gating=True</c>, as Python's constructor does.</summary>
    public UniPELTConfig(PrefixTuningConfig? prefixTuning = null, BnConfig? adapter = null, LoRAConfig? lora = null)
        : base(
            (prefixTuning ?? new PrefixTuningConfig { PrefixLength = 10 }) with { UseGating = true },
            (adapter ?? new SeqBnConfig { ReductionFactor = 16 }) with { UseGating = true },
            (lora ?? new LoRAConfig { R = 8, Alpha = 2 }) with { UseGating = true })
    {
    }
}
