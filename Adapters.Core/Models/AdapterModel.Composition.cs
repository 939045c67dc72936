using Adapters.Core.Composition;

namespace Adapters.Core.Models;

/// <summary>Activating and training composition setups (Python's <c>set_active_adapters</c> and <c>train_adapter</c> with blocks).</summary>
public abstract partial class AdapterModel
{
    /// <summary>The active setup, or null when no adapter is active (Python's <c>active_adapters</c>).</summary>
    public AdapterCompositionBlock? ActiveAdapters => Setup.Composition;

    /// <summary>Whether the active setup replicates the batch (Python's <c>has_parallel_adapters</c>).</summary>
    public bool HasParallelAdapters => Setup.Composition is { ParallelChannels: > 1 };

    /// <summary>
    /// Activates a composition setup such as <c>new Stack("a", new Fuse("b", "c"))</c> (null deactivates all), as
    /// Python's <c>set_active_adapters</c>: the setup is validated against Python's nesting and depth rules, every
    /// adapter must exist, and merged LoRA weights are reset first. Setup text goes through
    /// <see cref="CompositionParser.Parse"/>.
    /// </summary>
    /// <exception cref="AdapterCompositionException">The setup breaks a nesting or depth rule.</exception>
    /// <exception cref="ArgumentException">An adapter in the setup does not exist.</exception>
    public void SetActiveAdapters(AdapterCompositionBlock? setup, IEnumerable<int>? skipLayers = null)
    {
        if (setup is not null) ValidateSetup(setup);
        ResetAdapter();
        Setup.Set(setup, skipLayers);
    }

    /// <summary>
    /// Runs forward passes with <paramref name="setup"/> instead of the active setup until the returned handle is
    /// disposed, as Python's <c>with AdapterSetup(setup):</c>: <c>using (model.UseAdapterSetup(new Stack("a", "b"))) { ... }</c>.
    /// The override holds only for the current thread / async flow (other threads keep the active setup), scopes nest,
    /// and null runs without adapters. Unlike <see cref="SetActiveAdapters(AdapterCompositionBlock?, IEnumerable{int}?)"/>, merged LoRA weights are left as they are
    /// and <see cref="ActiveAdapters"/> does not change.
    /// </summary>
    /// <exception cref="AdapterCompositionException">The setup breaks a nesting or depth rule.</exception>
    /// <exception cref="ArgumentException">An adapter in the setup does not exist.</exception>
    public IDisposable UseAdapterSetup(AdapterCompositionBlock? setup)
    {
        if (setup is not null) ValidateSetup(setup);
        return Setup.Override(setup);
    }

    /// <summary>Scoped override with setup text such as <c>"Parallel(a, b)"</c> or <c>"a,b"</c> (see <see cref="CompositionParser.Parse"/>).</summary>
    public IDisposable UseAdapterSetup(string setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return UseAdapterSetup(CompositionParser.Parse(setup));
    }

    private void ValidateSetup(AdapterCompositionBlock setup)
    {
        CompositionRules.Validate(setup, 0, Interface.ModelType);
        foreach (var name in setup.Flatten())
            if (!_configs.ContainsKey(name))
                throw new ArgumentException($"No adapter named \"{name}\" (used in the setup {setup}); add or load it first.", nameof(setup));
    }

    /// <summary>
    /// Prepares training of the adapters in <paramref name="setup"/>, as Python's <c>train_adapter</c>: training mode,
    /// the whole model frozen, those adapters unfrozen (VeRA's shared matrices stay frozen), the setup activated.
    /// </summary>
    public void TrainAdapter(AdapterCompositionBlock setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        CompositionRules.Validate(setup, 0, Interface.ModelType);
        foreach (var name in setup.Flatten())
            if (!_configs.ContainsKey(name)) throw new ArgumentException($"No adapter named \"{name}\".", nameof(setup));
        train(true);
        FreezeModel(true);
        foreach (var name in setup.Flatten()) UnfreezeAdapter(name);
        SetActiveAdapters(setup);
    }

    /// <summary>
    /// Keeps the setup consistent after adapter <paramref name="name"/> is deleted: a plain stack of names loses the
    /// name; any other setup that uses it is deactivated, since its blocks no longer describe existing adapters.
    /// </summary>
    private void DeactivateDeletedAdapter(string name)
    {
        if (Setup.Composition is not { } setup || !setup.Contains(name)) return;
        if (setup is Stack && setup.Children.All(c => c.IsAdapter))
        {
            var remaining = setup.Children.Select(c => c.Adapter!).Where(n => n != name).ToArray();
            Setup.Set(remaining, Setup.SkipLayers);
        }
        else
        {
            Setup.Set((AdapterCompositionBlock?)null, Setup.SkipLayers);
        }
    }
}
