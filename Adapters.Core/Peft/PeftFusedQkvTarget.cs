using Adapters.Core.Methods.LoRA;

namespace Adapters.Core.Peft;

/// <summary>
/// A fused q/k/v projection PEFT can adapt as one layer (GPT-2's <c>attn.c_attn</c>, a <c>Conv1D</c>), with its module
/// path in the Hugging Face model. PEFT puts one <c>lora_A</c> (r, in) and one dense <c>lora_B</c> (3·part, r) on it, which
/// maps exactly onto adapters' block-diagonal <see cref="FusedQkvLoRA"/> with q, k and v enabled and <c>lora_A</c> repeated
/// per part; the reverse direction writes the block-diagonal update as a PEFT LoRA of rank n·r.
/// </summary>
/// <param name="Path">The module path PEFT sees, relative to the base model (e.g. <c>h.0.attn.c_attn</c>).</param>
/// <param name="Linear">Our fused projection at that path.</param>
/// <param name="FanInFanOut">Whether the Hugging Face layer stores its weight as (in, out) (<c>Conv1D</c>).</param>
public sealed record PeftFusedQkvTarget(string Path, FusedQkvLinear Linear, bool FanInFanOut = true);
