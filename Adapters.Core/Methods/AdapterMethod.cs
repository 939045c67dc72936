using Adapters.Core.Composition;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods;

/// <summary>
/// What one method family owns (bottleneck, LoRA family, prefix tuning, …): which configs it builds, creating its
/// modules at the sites of <see cref="AdapterLayerInterface"/>, removing them, which of its weights stay frozen in
/// training, merging, averaging and how its weights are keyed. <see cref="AdapterModel"/> knows no method; it asks
/// <see cref="AdapterMethodRegistry"/>. A method that cannot do something keeps the default, which says so.
/// </summary>
/// <param name="name">The family's name in messages, e.g. "LoRA".</param>
/// <param name="weightContainers">See <see cref="WeightContainers"/>.</param>
/// <param name="modulePathSegments">See <see cref="ModulePathSegments"/>.</param>
internal abstract class AdapterMethod(string name, IReadOnlyList<string> weightContainers, IReadOnlyList<string> modulePathSegments)
{
    /// <summary>The family's name in messages, e.g. "LoRA".</summary>
    public string Name { get; } = name;

    /// <summary>Whether this method builds adapters of <paramref name="config"/>'s type.</summary>
    public abstract bool Accepts(AdapterConfig config);

    /// <summary>Creates adapter <paramref name="name"/>'s modules at every site <paramref name="config"/> selects.</summary>
    /// <exception cref="AdapterConfigException">The config cannot be built on this model.</exception>
    public abstract void Add(AdapterModel model, string name, AdapterConfig config);

    /// <summary>Removes (and disposes) whatever modules of adapter <paramref name="name"/> this method created; called for every method.</summary>
    public abstract void Remove(AdapterModel model, string name);

    /// <summary>
    /// The model-level containers this method keeps its modules in, created once per model and registered under
    /// Python's names (e.g. <c>prefix_tuning</c>); find them again with <see cref="AdapterModel.MethodContainer{T}"/>.
    /// </summary>
    public virtual IEnumerable<(string Name, nn.Module Container)> CreateContainers(AdapterModel model) => [];

    /// <summary>
    /// The containers holding one entry per adapter name, each with the character before it (<c>.loras.</c>): a key
    /// holding <c>&lt;container&gt;NAME.</c> is a weight of adapter NAME (Python's loader filter and rename rules).
    /// </summary>
    public IReadOnlyList<string> WeightContainers { get; } = weightContainers;

    /// <summary>Module-path segments this method adds to a plain Hugging Face model (PEFT's module matching skips them).</summary>
    public IReadOnlyList<string> ModulePathSegments { get; } = modulePathSegments;

    /// <summary>Old adapter-transformers module names in saved keys and the names they have now.</summary>
    public virtual IReadOnlyList<(string Old, string New)> LegacyKeyRenames => [];

    /// <summary>Whether weight <paramref name="key"/> of adapter <paramref name="name"/> stays frozen when the adapter trains.</summary>
    public virtual bool StaysFrozen(AdapterConfig config, string key, string name) => false;

    /// <summary>Whether adapters of <paramref name="config"/> can be folded into the base weights.</summary>
    public virtual bool CanMerge(AdapterConfig config) => false;

    /// <summary>Folds adapter <paramref name="name"/> into the base weights (only called when <see cref="CanMerge"/>).</summary>
    public virtual void Merge(AdapterModel model, string name, AdapterConfig config) =>
        throw new InvalidOperationException($"{Name} adapters cannot be merged.");

    /// <summary>Undoes every merge this method made.</summary>
    public virtual void Reset(AdapterModel model) { }

    /// <summary>
    /// The config of an adapter averaged from adapters of <paramref name="config"/> with <paramref name="strategy"/>;
    /// only <see cref="AdapterCombineStrategy.Linear"/> unless the method knows more.
    /// </summary>
    /// <exception cref="ArgumentException">The strategy does not fit this method.</exception>
    public virtual AdapterConfig AveragedConfig(AdapterConfig config, string firstAdapter, AdapterCombineStrategy strategy, int? svdRank)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (strategy != AdapterCombineStrategy.Linear)
            throw new ArgumentException($"Combine strategy {strategy} is only supported for LoRA adapters; \"{firstAdapter}\" is {config.DisplayArchitecture}. Use Linear.", "combineStrategy");
        return config;
    }

    /// <summary>Fills the freshly added adapter <paramref name="name"/> as the <paramref name="lambdas"/>-weighted combination of <paramref name="adapters"/>.</summary>
    public virtual void Average(AdapterModel model, string name, IReadOnlyList<string> adapters, IReadOnlyList<double> lambdas, AdapterCombineStrategy strategy, int? svdRank) =>
        AdapterAveraging.Linear(model, name, adapters, lambdas);

    /// <summary>Adds keys under which Python's files repeat some of adapter <paramref name="name"/>'s tensors.</summary>
    public virtual void AddStateDictAliases(AdapterModel model, IDictionary<string, Tensor> state, string name) { }

    /// <summary>Maps a repeated key written by <see cref="AddStateDictAliases"/> (without the base prefix) to the model's own key.</summary>
    public virtual string CanonicalKey(string unprefixedKey) => unprefixedKey;
}

/// <summary>A method that builds adapters of one config type <typeparamref name="TConfig"/> (and its subtypes).</summary>
internal abstract class AdapterMethod<TConfig>(string name, IReadOnlyList<string> weightContainers, IReadOnlyList<string> modulePathSegments)
    : AdapterMethod(name, weightContainers, modulePathSegments)
    where TConfig : AdapterConfig
{
    /// <inheritdoc />
    public sealed override bool Accepts(AdapterConfig config) => config is TConfig;

    /// <inheritdoc />
    public sealed override void Add(AdapterModel model, string name, AdapterConfig config) => Add(model, name, (TConfig)config);

    /// <summary>Creates adapter <paramref name="name"/>'s modules at every site <paramref name="config"/> selects.</summary>
    /// <exception cref="AdapterConfigException">The config cannot be built on this model.</exception>
    protected abstract void Add(AdapterModel model, string name, TConfig config);
}
