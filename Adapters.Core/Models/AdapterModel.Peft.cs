using Adapters.Core.Configuration;
using Adapters.Core.Methods;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Peft;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

public abstract partial class AdapterModel
{
    // Segments of our module tree that Python adapters adds and a plain Hugging Face model does not have.
    private static readonly HashSet<string> s_adapterContainerSegments = new(
        [.. AdapterMethodRegistry.Methods.SelectMany(m => m.ModulePathSegments), AdapterWeightKeys.SharedParametersContainer, "heads"],
        StringComparer.Ordinal);

    /// <summary>
    /// The projections PEFT can adapt on this model, each with its module path in the Hugging Face model (what PEFT's
    /// <c>named_modules()</c> shows, e.g. <c>encoder.layer.0.attention.self.query</c>). The default finds every
    /// <see cref="AdaptableLinear"/> through the module tree, which holds for models that register children under
    /// Hugging Face's names (all built-in ones). Override it where the tree differs from Hugging Face's or where the
    /// Hugging Face layer is a <c>Conv1D</c> (GPT-2), which PEFT adapts with <c>fan_in_fan_out=True</c>.
    /// </summary>
    public virtual IReadOnlyList<PeftModuleTarget> GetPeftModuleTargets()
    {
        var result = new List<PeftModuleTarget>();
        foreach (var (path, module) in named_modules())
        {
            // Linears no adapters LoRA config selects (o_proj, gate_proj, BERT's attention output) have no adapters slot to map onto.
            if (module is AdaptableLinear { Location: not LoRALocation.None } linear && !IsAdapterContainerPath(path)) result.Add(new PeftModuleTarget(path, linear));
        }
        return result;
    }

    /// <summary>
    /// Every module path of the Hugging Face model that PEFT's <c>target_modules</c> matching sees (leaves and
    /// containers, without the modules Python adapters adds), relative to the same root as <see cref="GetPeftModuleTargets"/>.
    /// </summary>
    public virtual IReadOnlyList<string> GetPeftModuleNames() =>
        named_modules().Select(m => m.name).Where(n => n.Length > 0 && !IsAdapterContainerPath(n)).ToArray();

    /// <summary>
    /// Adds adapter <paramref name="name"/> from modules built outside <see cref="AddAdapter(string, AdapterConfig, bool)"/>,
    /// for mappings whose per-module rank or scale no adapters config can describe (PEFT's <c>rank_pattern</c>).
    /// <paramref name="config"/> is recorded as the adapter's config and should describe the selection as closely as it can.
    /// </summary>
    internal void AddAdapterModules(string name, LoRAConfig config, IReadOnlyList<(AdaptableLinear Linear, LoRALayer Module)> modules)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_configs.ContainsKey(name)) throw new ArgumentException($"An adapter named \"{name}\" already exists.", nameof(name));
        if (name.Contains('.', StringComparison.Ordinal)) throw new ArgumentException($"Adapter name \"{name}\" must not contain '.'.", nameof(name));
        try
        {
            foreach (var (linear, module) in modules) linear.Loras.Add(name, module);
        }
        catch
        {
            RemoveModules(name);
            throw;
        }
        _configs[name] = config;
        train(training);
    }

    /// <summary>The projections <see cref="AddAdapter(string, AdapterConfig, bool)"/> would adapt for <paramref name="config"/>.</summary>
    internal IReadOnlyList<AdaptableLinear> SelectLoRATargets(LoRAConfig config) =>
        Interface.Layers.Where(l => !config.LeaveOut.Contains(l.Index)).SelectMany(l => LoRAMethod.Targets(l, config)).Distinct().ToArray();

    private static bool IsAdapterContainerPath(string path) => path.Split('.').Any(s_adapterContainerSegments.Contains);
}
