using Adapters.Core.Configuration;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Peft;

namespace Adapters.Core.Models;

/// <summary>The parts of the PEFT mapping that decoder models need: fused q/k/v layers and task-model paths.</summary>
public abstract partial class AdapterModel
{
    /// <summary>
    /// The fused q/k/v projections PEFT can adapt (GPT-2's <c>c_attn</c>), with their Hugging Face module paths. Empty by
    /// default; models with a <see cref="FusedQkvLinear"/> override it.
    /// </summary>
    public virtual IReadOnlyList<PeftFusedQkvTarget> GetPeftFusedQkvTargets() => [];

    /// <summary>
    /// Whether PEFT folders for this model are normally built on the task model, whose module paths start with the base
    /// prefix (<c>model.layers.0…</c> in <c>LlamaForCausalLM</c>, <c>transformer.h.0…</c> in <c>GPT2LMHeadModel</c>).
    /// Decoders say yes: PEFT is applied to their <c>*ForCausalLM</c>, so export writes the prefix unless told otherwise.
    /// </summary>
    public virtual bool PeftPathsIncludeBasePrefix => false;

    /// <summary>Adds the fused q/k/v modules of adapter <paramref name="name"/>, which <see cref="AddAdapterModules"/> has just registered.</summary>
    internal void AddFusedAdapterModules(string name, IReadOnlyList<(FusedQkvLinear Linear, FusedQkvLoRA Module)> modules)
    {
        try
        {
            foreach (var (linear, module) in modules) linear.Loras.Add(name, module);
        }
        catch
        {
            DeleteAdapter(name);
            throw;
        }
        // New modules start in training mode; they follow the model's current mode instead.
        train(training);
    }

    /// <summary>The fused q/k/v projections <see cref="AddAdapter(string, AdapterConfig, bool)"/> would adapt for <paramref name="config"/>.</summary>
    internal IReadOnlyList<FusedQkvLinear> SelectFusedLoRATargets(LoRAConfig config) =>
        LoRAMethod.FusedTargets(Interface, config).ToArray();
}
