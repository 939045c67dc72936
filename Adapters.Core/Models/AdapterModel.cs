using System.Globalization;
using System.Text;
using Adapters.Core.Configuration;
using Adapters.Core.Methods;
using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>
/// A model that can carry adapters, with the API of Python's <c>ModelAdaptersMixin</c>: add, train, activate, merge,
/// delete, summarise, and move adapter weights in and out as state dicts keyed exactly as Python saves them
/// (<c>bert.encoder.layer.0.output.adapters.NAME.adapter_down.0.weight</c>). Built-in encoders derive from it; so can
/// a user's own TorchSharp model, by describing its attachment points in <see cref="CreateInterface"/>.
/// </summary>
public abstract partial class AdapterModel : nn.Module
{
    private readonly Dictionary<string, AdapterConfig> _configs = new(StringComparer.Ordinal);
    private readonly AdapterModuleDict _shared = new();
    private readonly List<(string Name, nn.Module Container)> _methodContainers;
    private AdapterModelInterface? _interface;

    /// <summary>Creates the adapter bookkeeping and every method's containers; subclasses build their layers afterwards.</summary>
    protected AdapterModel(string name) : base(name)
    {
        _methodContainers = AdapterMethodRegistry.Methods.SelectMany(m => m.CreateContainers(this)).ToList();
    }

    /// <summary>The adapters that run in the forward pass; pass it to every <see cref="AdaptableLinear"/> and <see cref="BottleneckSite"/>.</summary>
    public ActiveAdapterSetup Setup { get; } = new();

    /// <summary>The attachment points, built once from <see cref="CreateInterface"/>.</summary>
    public AdapterModelInterface Interface => _interface ??= CreateInterface();

    /// <summary>The Python class name written as <c>model_class</c> in saved configs, e.g. <c>BertAdapterModel</c>.</summary>
    public abstract string ModelClassName { get; }

    /// <summary>The HF <c>_name_or_path</c> written as <c>model_name</c>, if known.</summary>
    public virtual string? ModelName => null;

    /// <summary>Whether <see cref="FreezeModel"/> froze the model (Python's <c>model_frozen</c>).</summary>
    public bool IsFrozen { get; private set; }

    /// <summary>Adapter names in the order they were added.</summary>
    public IReadOnlyCollection<string> AdapterNames => _configs.Keys;

    /// <summary>Describes where adapters attach; called once, after construction.</summary>
    protected abstract AdapterModelInterface CreateInterface();

    /// <summary>
    /// Registers the containers for shared adapter parameters and invertible adapters under Python's names
    /// (<c>shared_parameters</c>, <c>invertible_adapters</c>). Call once from the subclass constructor.
    /// </summary>
    protected void RegisterAdapterContainers()
    {
        register_module(AdapterWeightKeys.SharedParametersContainer, _shared);
        foreach (var (name, container) in _methodContainers) register_module(name, container);
        AdapterContainersRegistered = true;
    }

    /// <summary>Whether the model registered the method containers (<see cref="RegisterAdapterContainers"/>).</summary>
    internal bool AdapterContainersRegistered { get; private set; }

    /// <summary>The model-level container a method created under <paramref name="name"/>, or null.</summary>
    internal T? MethodContainer<T>(string name) where T : nn.Module =>
        _methodContainers.FirstOrDefault(c => c.Name == name).Container as T;

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>Applies the first active adapter's invertible adapter to the embedding output, if it has one.</summary>
    protected Tensor ApplyInvertibleAdapter(Tensor embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        return BottleneckMethod.ActiveInvertible(this) is { } block ? block.Forward(embeddings) : embeddings;
    }

    /// <summary>
    /// Applies the first active adapter's invertible adapter in reverse, as LM heads do before their vocabulary
    /// projection; returns the input when there is none.
    /// </summary>
    public Tensor ApplyInvertibleAdapterInverse(Tensor hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        return BottleneckMethod.ActiveInvertible(this) is { } block ? block.Inverse(hidden) : hidden;
    }

    /// <summary>The config of adapter <paramref name="name"/>.</summary>
    public AdapterConfig GetAdapterConfig(string name) =>
        _configs.TryGetValue(name, out var config) ? config : throw new ArgumentException($"No adapter named \"{name}\".", nameof(name));

    /// <summary>Whether an adapter with this name exists.</summary>
    public bool HasAdapter(string name) => _configs.ContainsKey(name);

    /// <summary>Adds an adapter from a config string such as <c>"seq_bn"</c> or <c>"lora[r=16]|par_bn"</c>.</summary>
    public void AddAdapter(string name, string configString, bool setActive = false) =>
        AddAdapter(name, AdapterConfig.Parse(configString), setActive);

    /// <summary>
    /// Adds an adapter, creating its modules at every attachment point the config selects, with Python's inits.
    /// </summary>
    /// <exception cref="ArgumentException">The name is taken or contains a dot.</exception>
    /// <exception cref="AdapterConfigException">The config cannot be built on this model.</exception>
    public void AddAdapter(string name, AdapterConfig config, bool setActive = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(config);
        if (_configs.ContainsKey(name)) throw new ArgumentException($"An adapter named \"{name}\" already exists.", nameof(name));
        if (name.Contains('.', StringComparison.Ordinal)) throw new ArgumentException($"Adapter name \"{name}\" must not contain '.'.", nameof(name));
        try
        {
            AdapterMethodRegistry.For(config).Add(this, name, config);
        }
        catch
        {
            RemoveModules(name);
            throw;
        }
        _configs[name] = config;
        // New modules start in training mode; they follow the model's current mode instead.
        train(training);
        if (setActive) SetActiveAdapters(name);
    }

    /// <summary>Removes an adapter and all its modules; it is deactivated first.</summary>
    public void DeleteAdapter(string name)
    {
        if (!_configs.Remove(name)) throw new ArgumentException($"No adapter named \"{name}\".", nameof(name));
        DeactivateDeletedAdapter(name);
        RemoveModules(name);
    }

    /// <summary>
    /// Activates adapters as a stack (a single name is a stack of one); any merged LoRA is reset first, as in Python.
    /// </summary>
    public void SetActiveAdapters(params string[] names) => SetActiveAdapters(names, null);

    /// <summary>Activates a stack of adapters (none: deactivates all), skipping <paramref name="skipLayers"/> (AdapterDrop).</summary>
    public void SetActiveAdapters(IReadOnlyList<string> names, IEnumerable<int>? skipLayers)
    {
        ArgumentNullException.ThrowIfNull(names);
        foreach (var name in names)
            if (!_configs.ContainsKey(name)) throw new ArgumentException($"No adapter named \"{name}\".", nameof(names));
        SetActiveAdapters(names.Count == 0 ? null : new Composition.Stack(names.Select(n => (Composition.CompositionChild)n)), skipLayers);
    }

    /// <summary>Sets <c>requires_grad</c> of every model parameter (adapters included) to <c>!freeze</c>.</summary>
    public void FreezeModel(bool freeze = true)
    {
        // 4-bit packed weights (uint8) are frozen by nature: only floating tensors can take gradients.
        foreach (var parameter in parameters()) parameter.requires_grad = !freeze && parameter.is_floating_point();
        IsFrozen = freeze;
    }

    /// <summary>
    /// Prepares training of the given adapters only: training mode, everything frozen, then those adapters'
    /// parameters unfrozen (VeRA's shared matrices stay frozen) and the adapters activated as a stack.
    /// </summary>
    public void TrainAdapter(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        foreach (var name in names)
            if (!_configs.ContainsKey(name)) throw new ArgumentException($"No adapter named \"{name}\".", nameof(names));
        train(true);
        FreezeModel(true);
        foreach (var name in names) UnfreezeAdapter(name);
        SetActiveAdapters(names);
    }

    /// <summary>Makes adapter <paramref name="name"/>'s weights trainable, except those its method keeps frozen.</summary>
    private void UnfreezeAdapter(string name)
    {
        var config = _configs[name];
        var method = AdapterMethodRegistry.For(config);
        foreach (var (key, parameter) in AdapterParameters(name)) parameter.requires_grad = !method.StaysFrozen(config, key, name);
    }

    /// <summary>Folds LoRA/IA³/DoRA/VeRA adapter <paramref name="name"/> into the weights of every layer it adapts.</summary>
    /// <exception cref="InvalidOperationException">The adapter is not of the LoRA family, or cannot be merged.</exception>
    public void MergeAdapter(string name)
    {
        var config = GetAdapterConfig(name);
        var method = AdapterMethodRegistry.For(config);
        if (!method.CanMerge(config))
            throw new InvalidOperationException($"Adapter \"{name}\" ({config.GetType().Name}) cannot be merged; only LoRA, IA3, DoRA and VeRA adapters can.");
        method.Merge(this, name, config);
    }

    /// <summary>Undoes every merge, restoring the original weights exactly.</summary>
    public void ResetAdapter()
    {
        foreach (var method in AdapterMethodRegistry.Methods) method.Reset(this);
    }

    /// <summary>
    /// The adapter's tensors keyed exactly as Python's <c>save_adapter</c> writes them: full model paths with the base
    /// prefix, e.g. <c>bert.encoder.layer.0.attention.self.query.loras.NAME.lora_A</c>.
    /// </summary>
    public Dictionary<string, Tensor> GetAdapterStateDict(string name)
    {
        GetAdapterConfig(name);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in state_dict())
        {
            var full = Prefixed(key);
            if (MatchesAdapter(full, name)) result[full] = tensor.detach();
        }
        foreach (var method in AdapterMethodRegistry.Methods) method.AddStateDictAliases(this, result, name);
        return result;
    }

    /// <summary>The <c>adapter_config.json</c> document Python would write for adapter <paramref name="name"/>.</summary>
    public AdapterConfigFile CreateAdapterConfigFile(string name) =>
        AdapterConfigFile.Create(GetAdapterConfig(name), name, Interface.ModelType, Interface.HiddenSize, ModelClassName, ModelName);

    /// <summary>
    /// Loads a saved adapter from its config document and weights, as Python's <c>load_adapter</c> does: the adapter
    /// is added as <paramref name="loadAs"/> (default: the saved name), old adapter-transformers module names and the
    /// saved adapter name are renamed, the base prefix is added or stripped as needed, and missing and unexpected keys
    /// are reported.
    /// </summary>
    /// <exception cref="AdapterLoadException">Weights are missing for the adapter or have the wrong shape; the adapter is not kept.</exception>
    public AdapterLoadResult LoadAdapterStateDict(AdapterConfigFile configFile, IReadOnlyDictionary<string, Tensor> weights,
        string? loadAs = null, bool setActive = false)
    {
        ArgumentNullException.ThrowIfNull(configFile);
        ArgumentNullException.ThrowIfNull(weights);
        var savedName = configFile.Name ?? throw new AdapterConfigException($"{AdapterConfigFile.FileName} has no \"name\".");
        var name = loadAs ?? savedName;
        AddAdapter(name, configFile.GetConfig());
        try
        {
            var modelTensors = NamedTensors();
            var expected = GetAdapterStateDict(name).Keys.Select(k => CanonicalAdapterKey(Unprefixed(k))).ToHashSet(StringComparer.Ordinal);
            var provided = new HashSet<string>(StringComparer.Ordinal);
            var unexpected = new List<string>();
            using (no_grad())
            {
                foreach (var (key, tensor) in weights)
                {
                    var renamed = CanonicalAdapterKey(Unprefixed(RenameAdapterKey(key, savedName, name)));
                    if (!modelTensors.TryGetValue(renamed, out var target))
                    {
                        unexpected.Add(key);
                        continue;
                    }
                    if (!target.shape.SequenceEqual(tensor.shape))
                        throw new AdapterLoadException(
                            $"Weight \"{key}\" has shape [{string.Join(", ", tensor.shape)}] but the model's \"{Prefixed(renamed)}\" has [{string.Join(", ", target.shape)}].");
                    target.copy_(tensor);
                    provided.Add(renamed);
                }
            }
            var missing = expected.Where(k => !provided.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToArray();
            // Python's save_adapter (<= 1.2) leaves shared_parameters out; its load_adapter keeps them freshly initialised and logs.
            var fatal = missing.Where(k => !k.StartsWith(SharedParametersPrefix, StringComparison.Ordinal)).Select(Prefixed).ToArray();
            if (fatal.Length > 0)
                throw new AdapterLoadException($"Adapter \"{savedName}\" is missing {fatal.Length} weight(s): {string.Join(", ", fatal.Take(10))}{(fatal.Length > 10 ? ", …" : "")}.");
            if (missing.Length > 0) Diagnostics.AdaptersEventSource.Log.MissingSharedParameters(savedName, string.Join(", ", missing.Select(Prefixed)));
            if (setActive) SetActiveAdapters(name);
            return new AdapterLoadResult(name, missing.Select(Prefixed).ToArray(), unexpected);
        }
        catch
        {
            DeleteAdapter(name);
            throw;
        }
    }

    /// <summary>
    /// Loads base-model weights from an HF state dict, stripping the base prefix (<c>bert.</c>, <c>roberta.</c>, …)
    /// when present and mapping old <c>LayerNorm.gamma/beta</c> names. Returns Python-style missing and unexpected keys.
    /// </summary>
    /// <exception cref="AdapterLoadException">A tensor has the wrong shape.</exception>
    public (IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys) LoadModelStateDict(IReadOnlyDictionary<string, Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var modelTensors = NamedTensors();
        // Layers built for streaming quantize-at-load take their stored weight quantized, one tensor at a time.
        var deferred = FourBitCheckpoint.DeferredWeights(this);
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        using (no_grad())
        {
            foreach (var (key, tensor) in weights)
            {
                var name = Unprefixed(key).Replace("LayerNorm.gamma", "LayerNorm.weight", StringComparison.Ordinal)
                    .Replace("LayerNorm.beta", "LayerNorm.bias", StringComparison.Ordinal);
                if (!modelTensors.TryGetValue(name, out var target))
                {
                    unexpected.Add(key);
                    continue;
                }
                if (!target.shape.SequenceEqual(tensor.shape))
                    throw new AdapterLoadException($"Weight \"{key}\" has shape [{string.Join(", ", tensor.shape)}] but the model expects [{string.Join(", ", target.shape)}].");
                if (deferred.Remove(name, out var layer)) layer.QuantizeLoadedWeight(tensor);
                else target.copy_(tensor);
                loaded.Add(name);
            }
        }
        var missing = modelTensors.Keys.Where(k => !loaded.Contains(k) && !IsAdapterKey(Prefixed(k)) && !IsFusionKey(k)).ToArray();
        return (missing, unexpected);
    }

    /// <summary>The rows of <see cref="AdapterSummary"/>: one per adapter, then the full model.</summary>
    public IReadOnlyList<AdapterSummaryRow> AdapterSummaryRows()
    {
        var rows = new List<AdapterSummaryRow>();
        long adapterTotal = 0;
        var counts = new List<(string Name, long Count, bool Train)>();
        foreach (var name in _configs.Keys)
        {
            var parameters = AdapterParameters(name).Select(p => p.Parameter).ToArray();
            var count = parameters.Sum(p => p.numel());
            adapterTotal += count;
            counts.Add((name, count, parameters.Length > 0 && parameters.All(p => p.requires_grad)));
        }
        // A 4-bit projection counts its weights, not its packed bytes (two weights per byte), as transformers counts them.
        var fourBit = BaseLinears().Sum(l => l.Linear.QuantState is { } state ? state.Count - l.Linear.weight.numel() : 0);
        var total = parameters().Sum(p => p.numel()) + fourBit - adapterTotal;
        foreach (var (name, count, train) in counts)
        {
            rows.Add(new AdapterSummaryRow(name, _configs[name].DisplayArchitecture, count, count * 100.0 / total,
                Setup.Names.Contains(name), train));
        }
        rows.Add(new AdapterSummaryRow("Full model", null, total, 100.0, null, !IsFrozen));
        return rows;
    }

    /// <summary>
    /// The table Python's <c>adapter_summary()</c> prints: 80-column rules, columns Name, Architecture, #Param,
    /// %Param, Active, Train, booleans as 1/0, and a "Full model" row whose #Param excludes all adapters.
    /// </summary>
    public string AdapterSummary()
    {
        const int width = 80;
        var lines = new List<string>
        {
            new('=', width),
            $"{"Name",-25}{"Architecture",-15}{"#Param",12}{"%Param",12}{"Active",8}{"Train",8}",
            new('-', width),
        };
        foreach (var row in AdapterSummaryRows())
        {
            if (row.Architecture is null) lines.Add(new string('-', width));
            var active = row.Active is { } a ? (a ? "1" : "0") : string.Empty;
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{row.Name,-25}{row.Architecture ?? string.Empty,-15}{row.ParameterCount,12:N0}{row.ParameterPercent,12:F3}{active,8}{(row.Train ? "1" : "0"),8}"));
        }
        lines.Add(new string('=', width));
        return string.Join('\n', lines);
    }

    /// <summary>The parameters of adapter <paramref name="name"/> with their prefixed keys.</summary>
    public IEnumerable<(string Key, Parameter Parameter)> AdapterParameters(string name)
    {
        foreach (var (key, parameter) in named_parameters())
        {
            var full = Prefixed(key);
            if (MatchesAdapter(full, name)) yield return (full, parameter);
        }
    }

    /// <summary>The parameters adapter <paramref name="name"/> shares across layers (<c>shared_parameters.NAME</c>), created on first use.</summary>
    internal SharedParameters SharedParametersFor(string name)
    {
        if (_shared.Get<SharedParameters>(name) is { } existing) return existing;
        var created = new SharedParameters();
        _shared.Add(name, created);
        return created;
    }

    private void RemoveModules(string name)
    {
        foreach (var method in AdapterMethodRegistry.Methods) method.Remove(this, name);
        _shared.Remove(name);
    }

    private Dictionary<string, Tensor> NamedTensors()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, parameter) in named_parameters()) result[key] = parameter;
        foreach (var (key, buffer) in named_buffers()) result.TryAdd(key, buffer);
        return result;
    }

    /// <summary>The device and dtype of the model's parameters (null for a model without parameters); new adapters are created there.</summary>
    internal (Device? Device, ScalarType? Type) ParameterDeviceAndType()
    {
        // A 4-bit projection's packed uint8 weight says nothing about the dtype adapters should take.
        var first = parameters().FirstOrDefault(p => p.is_floating_point()) ?? parameters().FirstOrDefault();
        return first is null ? (null, null) : (first.device, first.dtype);
    }

    private const string SharedParametersPrefix = AdapterWeightKeys.SharedParametersContainer + ".";

    /// <summary><paramref name="key"/> (a path in this module) with the base prefix in front, as saved files key it.</summary>
    internal string PrefixedKey(string key) => Prefixed(key);

    private string Prefixed(string key) => Interface.BaseModelPrefix + "." + key;

    private string Unprefixed(string key)
    {
        var prefix = Interface.BaseModelPrefix + ".";
        return key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : key;
    }

    private bool IsAdapterKey(string prefixedKey) => _configs.Keys.Any(name => MatchesAdapter(prefixedKey, name));

    /// <summary>Python's <c>AdapterLoader.filter_func</c> for the methods this port has (see <see cref="AdapterWeightKeys"/>).</summary>
    internal static bool MatchesAdapter(string key, string name) => AdapterWeightKeys.BelongsTo(key, name);

    /// <summary>Python's <c>AdapterLoader.rename_func</c> plus the adapter-transformers module renames the methods declare.</summary>
    internal static string RenameAdapterKey(string key, string oldName, string newName)
    {
        var builder = new StringBuilder(key);
        foreach (var method in AdapterMethodRegistry.Methods)
            foreach (var (old, current) in method.LegacyKeyRenames) builder.Replace(old, current);
        return AdapterWeightKeys.RenameAll(builder.ToString(), oldName, newName);
    }
}
