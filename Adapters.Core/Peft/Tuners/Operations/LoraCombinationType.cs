namespace Adapters.Core.Peft.Tuners.Operations;

/// <summary>How <see cref="PeftTunerModel.AddWeightedAdapter"/> combines LoRA adapters (PEFT's <c>combination_type</c>).</summary>
public enum LoraCombinationType
{
    /// <summary><c>linear</c>: <c>A = Σ √(wᵢ·sᵢ)·Aᵢ</c>, <c>B = Σ √(wᵢ·sᵢ)·Bᵢ</c>; every adapter must have the same <c>r</c>.</summary>
    Linear,

    /// <summary><c>cat</c>: the factors <c>wᵢ·sᵢ·Aᵢ</c> and <c>Bᵢ</c> stacked along the rank; the new rank is the sum of the ranks.</summary>
    Cat,

    /// <summary><c>svd</c>: the truncated SVD of <c>Σ wᵢ·sᵢ·ΔWᵢ</c> (ΔWᵢ already scaled, as PEFT 0.14 computes it), at <c>svd_rank</c> (default: the largest rank).</summary>
    Svd,
}
