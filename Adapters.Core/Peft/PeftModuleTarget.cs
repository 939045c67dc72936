using Adapters.Core.Methods.LoRA;

namespace Adapters.Core.Peft;

/// <summary>A projection PEFT can adapt, with its module path in the Hugging Face model.</summary>
/// <param name="Path">The module path PEFT sees, relative to the base model (e.g. <c>encoder.layer.0.attention.self.query</c>).</param>
/// <param name="Linear">Our layer at that path.</param>
/// <param name="FanInFanOut">
/// Whether the Hugging Face layer stores its weight as (in, out) (<c>Conv1D</c>, as in GPT-2), which PEFT marks with
/// <c>fan_in_fan_out=True</c>. It changes how PEFT merges ΔW into the base weight, not the <c>lora_A</c>/<c>lora_B</c> tensors.
/// </param>
public sealed record PeftModuleTarget(string Path, AdaptableLinear Linear, bool FanInFanOut = false);
