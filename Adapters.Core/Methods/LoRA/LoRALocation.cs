namespace Adapters.Core.Methods.LoRA;

/// <summary>Which LoRA config flag selects a projection (<c>selfattn_lora</c> with a matrix, <c>intermediate_lora</c>, <c>output_lora</c>).</summary>
public enum LoRALocation
{
    /// <summary>Self-attention query ("q").</summary>
    Query,
    /// <summary>Self-attention key ("k").</summary>
    Key,
    /// <summary>Self-attention value ("v").</summary>
    Value,
    /// <summary>First feed-forward projection (<c>intermediate_lora</c>).</summary>
    Intermediate,
    /// <summary>Second feed-forward projection (<c>output_lora</c>).</summary>
    Output,
    /// <summary>A projection no LoRA config adapts (e.g. the attention output, whose "o" Python ignores).</summary>
    None,
}
