using System.Globalization;
using System.Text;
using Adapters.Core.Configuration;
using Adapters.Core.Methods;
using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Methods.Invertible;
using Adapters.Core.Methods.LoRA;
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
    private readonly AdapterModuleDict _invertible = new();
    private AdapterModelInterface? _interface;

    /// <summary>Creates the adapter bookkeeping; subclasses build their layers afterwards.</summary>
    protected AdapterModel(string name) : base(name) { }

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
        register_module("invertible_adapters", _invertible);
        register_module("shared_parameters", _shared);
        RegisterMethodContainers();
        register_module(PeftPromptContainer, _peftPrompts);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>Applies the first active adapter's invertible adapter to the embedding output, if it has one.</summary>
    protected Tensor ApplyInvertibleAdapter(Tensor embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (Setup.Names.Count == 0) return embeddings;
        return _invertible.Get<InvertibleAdapter>(Setup.Names[0]) is { } block ? block.Forward(embeddings) : embeddings;
    }

    /// <summary>
    /// Applies the first active adapter's invertible adapter in reverse, as LM heads do before their vocabulary
    /// projection; returns the input when there is none.
    /// </summary>
    public Tensor ApplyInvertibleAdapterInverse(Tensor hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (Setup.Names.Count == 0) return hidden;
        return _invertible.Get<InvertibleAdapter>(Setup.Names[0]) is { } block ? block.Inverse(hidden) : hidden;
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
            var members = config is ConfigUnion union ? union.Configs : [config];
            foreach (var member in members)
            {
                switch (member)
                {
                    case BnConfig bn: AddBottleneck(name, bn); break;
                    case LoRAConfig lora: AddLoRA(name, lora); break;
                    default:
                        if (AddMethodAdapter(name, member)) break; throw new AdapterConfigException($"Config type {member.GetType().Name} cannot be added to a model.");
                }
            }
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
        foreach (var parameter in parameters()) parameter.requires_grad = !freeze;
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
        foreach (var name in names)
        {
            var vera = _configs[name] is LoRAConfig { IsVera: true };
            foreach (var (key, parameter) in AdapterParameters(name))
            {
                var frozenShared = vera && AdapterWeightKeys.IsSharedParameter(key, name);
                parameter.requires_grad = !frozenShared;
            }
        }
        SetActiveAdapters(names);
    }

    /// <summary>Folds LoRA/IA³/DoRA/VeRA adapter <paramref name="name"/> into the weights of every layer it adapts.</summary>
    /// <exception cref="InvalidOperationException">The adapter is not of the LoRA family, or cannot be merged.</exception>
    public void MergeAdapter(string name)
    {
        var config = GetAdapterConfig(name);
        if (config is not LoRAConfig && !(config is ConfigUnion u && u.Configs.Any(c => c is LoRAConfig)))
            throw new InvalidOperationException($"Adapter \"{name}\" is not a LoRA-family adapter; only LoRA, IA3, DoRA and VeRA can be merged.");
        foreach (var linear in AdaptableLinears().Where(l => l.Loras.Contains(name))) linear.Merge(name);
        foreach (var fused in FusedQkvLinears().Where(l => l.Loras.Contains(name))) fused.Merge(name);
    }

    /// <summary>Undoes every merge, restoring the original weights exactly.</summary>
    public void ResetAdapter()
    {
        foreach (var linear in AdaptableLinears()) linear.Reset();
        foreach (var fused in FusedQkvLinears()) fused.Reset();
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
        AddPrefixPoolDuplicates(result, name);
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
                target.copy_(tensor);
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
        var total = parameters().Sum(p => p.numel()) - adapterTotal;
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

    private void AddBottleneck(string name, BnConfig config)
    {
        var (device, dtype) = DeviceAndType();
        var hidden = Interface.HiddenSize;
        SharedParameters? shared = null;
        if (config.PhmLayer && (config.SharedPhmRule || config.SharedWPhm))
        {
            shared = SharedFor(name);
            PhmLayer.CreateShared(shared, config, hidden, SharedBottleneckSize(config, hidden), device, dtype);
        }
        foreach (var layer in Interface.Layers)
        {
            if (config.LeaveOut.Contains(layer.Index)) continue;
            if (config.MhAdapter && layer.AttentionAdapters is { } attention)
                attention.Adapters.Add(name, new BottleneckAdapter(config, hidden, layer.Index, shared, device, dtype));
            if (config.OutputAdapter && layer.OutputAdapters is { } output)
                output.Adapters.Add(name, new BottleneckAdapter(config, hidden, layer.Index, shared, device, dtype));
        }
        if (config.InvAdapter is { } kind)
        {
            var factor = config.InvAdapterReductionFactor?.Value ?? 2;
            _invertible.Add(name, kind switch
            {
                "nice" => new NiceCouplingBlock(hidden, factor, config.NonLinearity, device, dtype),
                "glow" => (InvertibleAdapter)new GlowCouplingBlock(hidden, factor, config.NonLinearity, device, dtype),
                _ => throw new AdapterConfigException($"Unknown inv_adapter \"{kind}\"; expected \"nice\" or \"glow\"."),
            });
        }
    }

    /// <summary>
    /// The bottleneck width shared W is built for. Python sizes it from the plain <c>reduction_factor</c>, so a
    /// per-layer mapping that changes the width cannot share one W.
    /// </summary>
    private int SharedBottleneckSize(BnConfig config, int hidden)
    {
        if (!config.SharedWPhm) return 0;
        var sizes = Interface.Layers.Select(l => config.ReductionFactor.BottleneckSize(hidden, l.Index)).Distinct().ToArray();
        if (sizes.Length != 1)
            throw new AdapterConfigException("shared_W_phm=True needs one reduction_factor for every layer; a per-layer mapping gives bottleneck sizes "
                + string.Join(", ", sizes) + ".");
        return sizes[0];
    }

    private void AddLoRA(string name, LoRAConfig config)
    {
        var (device, dtype) = DeviceAndType();
        if (config.Dtype is { } dtypeName) dtype = ParseDtype(dtypeName);
        var scale = config.CompositionMode switch
        {
            "add" => false,
            "scale" => true,
            var other => throw new AdapterConfigException($"Unknown composition_mode \"{other}\"; expected \"add\" or \"scale\"."),
        };
        SharedParameters? shared = null;
        foreach (var layer in Interface.Layers)
        {
            if (config.LeaveOut.Contains(layer.Index)) continue;
            foreach (var linear in Targets(layer, config))
            {
                if (config.InitWeightsSeed is { } seed && seed != 0) manual_seed(seed);
                LoRALayer module;
                if (config.IsVera)
                {
                    if (shared is null)
                    {
                        shared = SharedFor(name);
                        VeraModule.CreateShared(shared, config, linear.InFeatures, linear.OutFeatures, device, dtype);
                    }
                    module = new VeraModule(config, linear.InFeatures, linear.OutFeatures, linear.OutInWeight, shared, device, dtype);
                }
                else if (scale)
                {
                    module = new IA3Module(config, linear.InFeatures, linear.OutFeatures, linear.OutInWeight, device, dtype);
                }
                else
                {
                    module = new LoRAModule(config, linear.InFeatures, linear.OutFeatures, linear.OutInWeight, device, dtype);
                }
                linear.Loras.Add(name, module);
            }
            if (config.SelfattnLora && layer.FusedQkv is { } fused) fused.AddLoRA(name, config, device, dtype);
        }
    }

    private static IEnumerable<AdaptableLinear> Targets(AdapterLayerInterface layer, LoRAConfig config)
    {
        if (config.SelfattnLora)
        {
            if (config.AttnMatrices.Contains("q") && layer.Query is { } q) yield return q;
            if (config.AttnMatrices.Contains("k") && layer.Key is { } k) yield return k;
            if (config.AttnMatrices.Contains("v") && layer.Value is { } v) yield return v;
        }
        if (config.IntermediateLora && layer.Intermediate is { } intermediate) yield return intermediate;
        if (config.OutputLora && layer.Output is { } output) yield return output;
    }

    private SharedParameters SharedFor(string name)
    {
        if (_shared.Get<SharedParameters>(name) is { } existing) return existing;
        var created = new SharedParameters();
        _shared.Add(name, created);
        return created;
    }

    private void RemoveModules(string name)
    {
        foreach (var layer in Interface.Layers)
        {
            layer.AttentionAdapters?.Adapters.Remove(name);
            layer.OutputAdapters?.Adapters.Remove(name);
        }
        foreach (var linear in AdaptableLinears())
        {
            if (linear.MergedAdapter == name) linear.Reset();
            linear.Loras.Remove(name);
        }
        foreach (var fused in FusedQkvLinears())
        {
            if (fused.MergedAdapter == name) fused.Reset();
            fused.Loras.Remove(name);
        }
        _shared.Remove(name);
        _invertible.Remove(name);
        _peftPrompts.Remove(name);
        RemoveMethodModules(name);
    }

    private IEnumerable<AdaptableLinear> AdaptableLinears() =>
        Interface.Layers.SelectMany(l => new[] { l.Query, l.Key, l.Value, l.Intermediate, l.Output }).OfType<AdaptableLinear>().Distinct();

    private Dictionary<string, Tensor> NamedTensors()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, parameter) in named_parameters()) result[key] = parameter;
        foreach (var (key, buffer) in named_buffers()) result.TryAdd(key, buffer);
        return result;
    }

    private (Device? Device, ScalarType? Type) DeviceAndType()
    {
        var first = parameters().FirstOrDefault();
        return first is null ? (null, null) : (first.device, first.dtype);
    }

    private static ScalarType ParseDtype(string name) => name switch
    {
        "float32" or "float" => ScalarType.Float32,
        "float16" or "half" => ScalarType.Float16,
        "bfloat16" => ScalarType.BFloat16,
        "float64" or "double" => ScalarType.Float64,
        _ => throw new AdapterConfigException($"Unknown dtype \"{name}\"; expected float32, float16, bfloat16 or float64."),
    };

    private const string SharedParametersPrefix = "shared_parameters.";

    private string Prefixed(string key) => Interface.BaseModelPrefix + "." + key;

    private string Unprefixed(string key)
    {
        var prefix = Interface.BaseModelPrefix + ".";
        return key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : key;
    }

    private bool IsAdapterKey(string prefixedKey) => _configs.Keys.Any(name => MatchesAdapter(prefixedKey, name));

    /// <summary>Python's <c>AdapterLoader.filter_func</c> for the methods this port has (see <see cref="AdapterWeightKeys"/>).</summary>
    internal static bool MatchesAdapter(string key, string name) => AdapterWeightKeys.BelongsTo(key, name);

    /// <summary>Python's <c>AdapterLoader.rename_func</c> plus the adapter-transformers module renames.</summary>
    internal static string RenameAdapterKey(string key, string oldName, string newName)
    {
        var builder = new StringBuilder(key);
        builder.Replace("attention_text_task_adapters", "adapters")
            .Replace("attention_text_lang_adapters", "adapters")
            .Replace("layer_text_task_adapters", "adapters")
            .Replace("layer_text_lang_adapters", "adapters")
            .Replace("invertible_lang_adapters", "invertible_adapters");
        return AdapterWeightKeys.RenameAll(builder.ToString(), oldName, newName);
    }
}
