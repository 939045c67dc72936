namespace Adapters.Core.Composition;

/// <summary>How <c>AverageAdapter</c> combines adapters (Python's <c>combine_strategy</c>).</summary>
public enum AdapterCombineStrategy
{
    /// <summary><c>"linear"</c>: every tensor of the new adapter is <c>Σ λᵢ·tensorᵢ</c>; works for every method.</summary>
    Linear,

    /// <summary><c>"lora_linear_only_negate_b"</c> (LoRA): <c>A = Σ|λᵢ|·Aᵢ</c>, <c>B = Σ λᵢ·Bᵢ</c>, so a negative weight negates only B.</summary>
    LoRALinearOnlyNegateB,

    /// <summary>
    /// <c>"lora_delta_w_svd"</c> (LoRA): <c>ΔW = Σ λᵢ·Bᵢ·Aᵢ</c> split by a rank-k SVD into <c>A = Vh[:k]</c> and
    /// <c>B = U[:, :k]·diag(S[:k])</c>. The new config has <c>r = k</c> but keeps <c>alpha</c>, so the effective scale
    /// becomes alpha/k instead of alpha/r: the merged adapter is the weighted sum scaled by r/k when k ≠ r (as Python).
    /// </summary>
    LoRADeltaWSvd,
}
