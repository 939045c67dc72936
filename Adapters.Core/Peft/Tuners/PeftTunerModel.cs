using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Peft.Tuners.Methods;
using Adapters.Core.Peft.Tuners.Operations;
using Adapters.Core.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners;

/// <summary>
/// PEFT's tuner model (<c>PeftModel.base_model</c>) on any TorchSharp module tree: adapters are injected into the
/// modules PEFT's <c>target_modules</c> rules select, keyed by module path as <c>named_modules()</c> shows it, and read
/// and written in PEFT's folder format (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c> / <c>.bin</c>,
/// keys <c>base_model.model.&lt;path&gt;.&lt;tensor&gt;</c>). The model itself is not owned: dispose it as usual.
/// </summary>
public sealed class PeftTunerModel
{
    // Segments under which Python adapters' own modules live in our models; they are not part of the Hugging Face tree
    // PEFT sees.
    private static readonly HashSet<string> s_foreignSegments = new(StringComparer.Ordinal)
    {
        "loras", "adapters", "shared_parameters", "invertible_adapters", "prefix_tuning", "refts", "prompt_tuning", "heads",
    };

    private readonly Dictionary<string, PeftConfig> _configs = new(StringComparer.Ordinal);
    private readonly List<PeftTunerLayer> _layers = [];
    private readonly Dictionary<string, List<PeftTunerLayer>> _adapterLayers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PeftModulesToSave> _modulesToSave = new(StringComparer.Ordinal);
    private readonly List<string> _warnings = [];

    /// <summary>Wraps <paramref name="model"/> (the transformers-level model PEFT would wrap); <paramref name="modelType"/> picks default targets.</summary>
    public PeftTunerModel(nn.Module model, string? modelType = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        ModelType = modelType;
    }

    /// <summary>Wraps a model built by <see cref="ModelFactory"/> at the level Python's <c>AutoModel</c>/<c>AutoModelForCausalLM</c> has.</summary>
    public PeftTunerModel(PretrainedModel model) : this((model ?? throw new ArgumentNullException(nameof(model))).Module, model.ModelType) { }

    /// <summary>The wrapped model.</summary>
    public nn.Module Model { get; }

    /// <summary>The model's <c>model_type</c>, for PEFT's default targets, or null.</summary>
    public string? ModelType { get; }

    /// <summary>Which adapters run.</summary>
    public PeftAdapterState State { get; } = new();

    /// <summary>The adapters, by name.</summary>
    public IReadOnlyDictionary<string, PeftConfig> Configs => _configs;

    /// <summary>Warnings collected while reading configs (fields of newer PEFT releases kept but unused).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>Model-level tensors of <paramref name="adapter"/> (VeRA's shared projections), by PEFT's name.</summary>
    public IDictionary<string, Parameter> SharedTensors(string adapter)
    {
        if (!_shared.TryGetValue(adapter, out var tensors)) _shared[adapter] = tensors = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        return tensors;
    }

    private readonly Dictionary<string, Dictionary<string, Parameter>> _shared = new(StringComparer.Ordinal);

    /// <summary>The tuner layers of <paramref name="adapter"/>.</summary>
    public IReadOnlyList<PeftTunerLayer> LayersOf(string adapter) => _adapterLayers.TryGetValue(adapter, out var l) ? l : [];

    /// <summary>
    /// Adds adapter <paramref name="name"/> for <paramref name="config"/> with PEFT's initialisation (PEFT's
    /// <c>inject_adapter</c>); the first adapter becomes active.
    /// </summary>
    /// <exception cref="AdapterConfigException">PEFT would refuse the config or a target (the message says which and why).</exception>
    public void AddAdapter(string name, PeftConfig config) => AddAdapter(name, config, fromFile: false);

    // A config read from a folder is kept exactly as it was written, so that the folder round-trips; a new config gets
    // the fields PEFT fills in when it builds the adapter.
    private void AddAdapter(string name, PeftConfig config, bool fromFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(config);
        if (_configs.ContainsKey(name)) throw new ArgumentException($"A PEFT adapter named \"{name}\" already exists.", nameof(name));
        if (name.Contains('.', StringComparison.Ordinal)) throw new ArgumentException($"Adapter name \"{name}\" must not contain '.'.", nameof(name));
        if (PeftMethodRegistry.Get(config) is not PeftTunerMethod method)
            throw new AdapterConfigException($"{config.Source}: peft_type \"{config.PeftType}\" is not a tuner method; it does not wrap layers.");
        config.WarnUnknown(method.KnownFields);
        method.Validate(config);
        _warnings.AddRange(config.Warnings);
        var targets = SelectTargets(config, method);
        var layers = new List<PeftTunerLayer>();
        foreach (var target in targets)
        {
            method.PrepareLayer(config, target);
            var layer = _layers.FirstOrDefault(l => ReferenceEquals(l.Base.Module, target.Module) && l.PeftType == method.PeftType);
            if (layer is null)
            {
                layer = method.CreateLayer(target, State);
                _layers.Add(layer);
            }
            layer.AddAdapter(name, config, target.Path);
            layers.Add(layer);
        }
        _adapterLayers[name] = layers;
        _configs[name] = config;
        method.AfterInject(this, name, config, layers);
        AddModulesToSave(name, config, fromFile);
        if (!fromFile) PeftConfigDefaults.Fill(config);
        if (State.Active.Count == 0) State.Active = [name];
    }

    /// <summary>
    /// Loads the PEFT folder <paramref name="directory"/> as adapter <paramref name="name"/> (PEFT's
    /// <c>load_adapter</c>): config, then <c>adapter_model.safetensors</c> or <c>adapter_model.bin</c>.
    /// </summary>
    /// <exception cref="AdapterLoadException">The folder is not a PEFT folder, or a tensor does not fit.</exception>
    /// <exception cref="AdapterConfigException">PEFT would refuse the config.</exception>
    public PeftLoadResult LoadAdapter(string directory, string name = "default", bool setActive = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var configPath = Path.Combine(directory, PeftConfig.FileName);
        if (!File.Exists(configPath)) throw new AdapterLoadException($"'{directory}' is not a PEFT adapter folder: {PeftConfig.FileName} is missing.");
        var config = PeftConfig.Read(configPath);
        var weightsPath = new[] { PeftFiles.SafetensorsWeights, PeftFiles.TorchWeights }.Select(f => Path.Combine(directory, f)).FirstOrDefault(File.Exists)
            ?? throw new AdapterLoadException($"'{directory}' has no PEFT weights: expected {PeftFiles.SafetensorsWeights} or {PeftFiles.TorchWeights}.");
        using var weights = TensorFiles.Load(weightsPath);
        return LoadAdapter(config, weights, name, setActive, weightsPath);
    }

    /// <summary>Adds adapter <paramref name="name"/> for <paramref name="config"/> and fills it from PEFT-keyed <paramref name="weights"/>.</summary>
    /// <exception cref="AdapterLoadException">A tensor's shape does not fit.</exception>
    /// <exception cref="AdapterConfigException">PEFT would refuse the config.</exception>
    public PeftLoadResult LoadAdapter(PeftConfig config, IReadOnlyDictionary<string, Tensor> weights, string name = "default", bool setActive = true, string source = PeftFiles.SafetensorsWeights)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        AddAdapter(name, config, fromFile: true);
        var expected = SavedTensors(name).ToDictionary(t => t.Key, t => t.Tensor, StringComparer.Ordinal);
        // PEFT writes keys in its state dict's order; saving again in the order read keeps a folder byte for byte.
        _fileKeyOrder[name] = weights.Keys.Where(expected.ContainsKey).ToArray();
        var unexpected = new List<string>();
        using (no_grad())
        {
            foreach (var (key, tensor) in weights)
            {
                if (!expected.Remove(key, out var target))
                {
                    unexpected.Add(key);
                    continue;
                }
                if (!target.shape.SequenceEqual(tensor.shape))
                    throw new AdapterLoadException($"{source}: '{key}' has shape [{string.Join(", ", tensor.shape)}] but adapter \"{name}\" needs [{string.Join(", ", target.shape)}] there.");
                target.copy_(tensor);
            }
        }
        if (setActive) SetAdapter(name);
        return new PeftLoadResult(name, config.PeftType, expected.Keys.Order(StringComparer.Ordinal).ToArray(), unexpected, config.Warnings);
    }

    /// <summary>The tensors PEFT saves for <paramref name="adapter"/>, keyed as in its files.</summary>
    public IEnumerable<(string Key, Parameter Tensor)> SavedTensors(string adapter)
    {
        var config = Config(adapter);
        var method = (PeftTunerMethod)PeftMethodRegistry.Get(config);
        foreach (var layer in LayersOf(adapter))
        {
            foreach (var (key, tensor) in layer.SavedTensors(adapter)) yield return ($"{PeftFiles.KeyPrefix}{layer.Base.Path}.{key}", tensor);
        }
        foreach (var (key, tensor) in method.ModelTensors(this, adapter)) yield return ("base_model." + key, tensor);
        if (_modulesToSave.TryGetValue(adapter, out var heads))
        {
            foreach (var (key, tensor) in heads.SavedTensors()) yield return (PeftFiles.KeyPrefix + key, tensor);
        }
    }

    /// <summary>
    /// Writes adapter <paramref name="name"/> as PEFT's <c>save_pretrained</c> does: the config (with
    /// <c>inference_mode</c> true), the weights and the model card <c>README.md</c>, into <paramref name="directory"/>.
    /// </summary>
    /// <param name="directory">The folder to write.</param>
    /// <param name="name">The adapter.</param>
    /// <param name="safeSerialization">safetensors (PEFT's default) or <c>adapter_model.bin</c>.</param>
    /// <param name="baseModelNameOrPath"><c>base_model_name_or_path</c> when the config has none.</param>
    /// <param name="writeCard">Also write or refresh <c>README.md</c> with PEFT's card front matter, as <c>save_pretrained</c> does.</param>
    public void SaveAdapter(string directory, string name = "default", bool safeSerialization = true, string? baseModelNameOrPath = null, bool writeCard = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var config = Config(name).Clone();
        Directory.CreateDirectory(directory);
        config.Document["inference_mode"] = true;
        if (config.Document["base_model_name_or_path"] is null && baseModelNameOrPath is not null) config.Document["base_model_name_or_path"] = baseModelNameOrPath;
        var method = (PeftTunerMethod)PeftMethodRegistry.Get(config);
        var tensors = method.PrepareSave(config, name, OrderedForFile(name, SavedTensors(name)).Select(t => new KeyValuePair<string, Tensor>(t.Key, t.Tensor.detach().cpu().contiguous())).ToArray());
        TensorFiles.Save(Path.Combine(directory, safeSerialization ? PeftFiles.SafetensorsWeights : PeftFiles.TorchWeights), tensors);
        config.Write(Path.Combine(directory, PeftConfig.FileName));
        if (writeCard) WriteCard(directory, config);
    }

    // PEFT's create_or_update_model_card: a new card, or PEFT's keys added to the one already there.
    private static void WriteCard(string directory, PeftConfig config)
    {
        var path = Path.Combine(directory, "README.md");
        var options = new Adapters.Hub.Cards.PeftCardOptions
        {
            PeftType = config.PeftType,
            TaskType = config.TaskType,
            BaseModel = config.String("base_model_name_or_path"),
        };
        var card = File.Exists(path) ? Adapters.Hub.Cards.PeftCard.Refresh(Adapters.Hub.Cards.ModelCard.Load(path), options) : Adapters.Hub.Cards.PeftCard.Create(options);
        card.Save(path);
    }

    private IEnumerable<(string Key, Parameter Tensor)> OrderedForFile(string adapter, IEnumerable<(string Key, Parameter Tensor)> tensors)
    {
        if (!_fileKeyOrder.TryGetValue(adapter, out var order)) return tensors;
        var rank = order.Select((key, i) => (key, i)).ToDictionary(p => p.key, p => p.i, StringComparer.Ordinal);
        return tensors.OrderBy(t => rank.GetValueOrDefault(t.Key, int.MaxValue));
    }

    private readonly Dictionary<string, string[]> _fileKeyOrder = new(StringComparer.Ordinal);

    /// <summary>
    /// Writes every adapter as PEFT's <c>save_pretrained</c> does: <c>default</c> into <paramref name="directory"/>
    /// itself, any other adapter into <c>directory/&lt;name&gt;/</c>.
    /// </summary>
    public void SaveAll(string directory, bool safeSerialization = true, string? baseModelNameOrPath = null)
    {
        foreach (var name in _configs.Keys)
            SaveAdapter(name == "default" ? directory : Path.Combine(directory, name), name, safeSerialization, baseModelNameOrPath, writeCard: true);
    }

    /// <summary>The config of <paramref name="adapter"/>.</summary>
    public PeftConfig Config(string adapter) =>
        _configs.TryGetValue(adapter, out var c) ? c : throw new ArgumentException($"No PEFT adapter named \"{adapter}\"; adapters: {string.Join(", ", _configs.Keys)}.", nameof(adapter));

    /// <summary>Activates <paramref name="adapters"/> (PEFT's <c>set_adapter</c>).</summary>
    public void SetAdapter(params string[] adapters)
    {
        foreach (var a in adapters) Config(a);
        State.Active = adapters.ToArray();
    }

    /// <summary>A scope in which adapters are off (PEFT's <c>disable_adapter()</c> context).</summary>
    public IDisposable DisableAdapters()
    {
        var before = State.Disabled;
        State.Disabled = true;
        return new Scope(() => State.Disabled = before);
    }

    /// <summary>Merges <paramref name="adapters"/> (default: the active ones) into the base weights.</summary>
    public void Merge(params string[] adapters)
    {
        var names = adapters.Length > 0 ? adapters : State.Active.ToArray();
        foreach (var name in names)
        {
            var method = (PeftTunerMethod)PeftMethodRegistry.Get(Config(name));
            method.CheckMergeable(Config(name));
            foreach (var layer in LayersOf(name)) layer.Merge(name);
        }
    }

    /// <summary>
    /// Adds LoRA adapter <paramref name="adapterName"/> combining <paramref name="adapters"/> with
    /// <paramref name="weights"/> (PEFT 0.14's <c>add_weighted_adapter</c>): the new config is the first adapter's with
    /// <c>r</c> and <c>lora_alpha</c> set to the new rank and the targets joined; nothing happens when the name exists.
    /// A single adapter is always combined linearly.
    /// </summary>
    /// <param name="adapters">The LoRA adapters to combine.</param>
    /// <param name="weights">One weight per adapter.</param>
    /// <param name="adapterName">The new adapter's name.</param>
    /// <param name="combinationType">How the factors are combined.</param>
    /// <param name="svdRank">The rank of an <see cref="LoraCombinationType.Svd"/> result (default: the largest rank).</param>
    /// <param name="svdClamp">A quantile of the SVD factors' values beyond which they are clamped (PEFT's <c>svd_clamp</c>), or null.</param>
    /// <param name="svdFullMatrices">Whether the SVD is computed with full matrices (as PEFT's default).</param>
    /// <exception cref="ArgumentException">PEFT would refuse the combination (the message gives PEFT's reason).</exception>
    public void AddWeightedAdapter(IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string adapterName,
        LoraCombinationType combinationType = LoraCombinationType.Svd, int? svdRank = null, double? svdClamp = null, bool svdFullMatrices = true) =>
        LoraWeightedAdapter.Add(this, adapters, weights, adapterName, combinationType, svdRank, svdClamp, svdFullMatrices);

    // How many modules more than one of adapters copies through modules_to_save.
    internal int ModulesToSavePaths(IReadOnlyList<string> adapters) => adapters
        .SelectMany(a => _modulesToSave.TryGetValue(a, out var m) ? m.Paths.Distinct() : [])
        .GroupBy(p => p, StringComparer.Ordinal).Count(g => g.Count() > 1);

    /// <summary>The rank allocator of the trainable AdaLoRA adapter (one not in <c>inference_mode</c>), if any.</summary>
    internal AdaLoraRankAllocator? AdaLoraAllocator { get; set; }

    /// <summary>
    /// PEFT's <c>update_and_allocate</c> for the trainable AdaLoRA adapter: updates the importance scores and prunes
    /// singular values to the budget of step <paramref name="globalStep"/> (<c>tinit</c>, <c>tfinal</c>, <c>deltaT</c>,
    /// <c>total_step</c> of its config), recording the kept ranks as its <c>rank_pattern</c>. Call it after each
    /// optimizer step and before the gradients are cleared (<see cref="Training.AdapterTrainerOptions.AfterOptimizerStep"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">No AdaLoRA adapter is being trained, or its config has no <c>total_step</c>.</exception>
    public void UpdateAndAllocate(long globalStep) =>
        (AdaLoraAllocator ?? throw new InvalidOperationException("No trainable AdaLoRA adapter: update_and_allocate applies to an AdaLoRA adapter added for training (inference_mode false).")).UpdateAndAllocate(globalStep);

    /// <summary>
    /// AdaLoRA's orthogonal regularization of the trainable adapter (<c>orth_reg_weight</c> · mean ‖PPᵀ − I‖), the term
    /// PEFT adds to the training loss (<see cref="Training.AdapterTrainerOptions.RegularizationLoss"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">No AdaLoRA adapter is being trained, or <c>orth_reg_weight</c> ≤ 0.</exception>
    public Tensor AdaLoraOrthogonalRegularization() =>
        (AdaLoraAllocator ?? throw new InvalidOperationException("No trainable AdaLoRA adapter to regularize.")).OrthogonalRegularization();

    /// <summary>Undoes every merge.</summary>
    public void Unmerge()
    {
        foreach (var layer in _layers) layer.UnmergeAll();
    }

    /// <summary>
    /// Makes exactly <paramref name="adapter"/>'s tensors (and its <c>modules_to_save</c> copies) trainable and freezes
    /// everything else, as <c>get_peft_model</c> leaves a model.
    /// </summary>
    public void MarkOnlyAdapterTrainable(string adapter)
    {
        Config(adapter);
        foreach (var p in Model.parameters()) p.requires_grad = false;
        foreach (var layer in LayersOf(adapter))
        {
            foreach (var p in layer.TrainableParameters(adapter)) p.requires_grad = true;
        }
        if (_modulesToSave.TryGetValue(adapter, out var heads)) heads.MarkTrainable();
    }

    /// <summary>The number of trainable parameters of the model.</summary>
    public long TrainableParameterCount() => Model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    /// <summary>Every module path PEFT's matching sees, with the module.</summary>
    public IEnumerable<(string Path, nn.Module Module)> ModulesForMatching() =>
        Model.named_modules().Where(m => m.name.Length > 0 && m.module is not (PeftParameterSlot or PeftParameterHolder)
            && !m.name.Split('.').Any(s_foreignSegments.Contains) && !IsInsideSlot(m.name));

    private bool IsInsideSlot(string path) => path.Split('.').Any(s => s == PeftModulesToSave.SlotName);

    private List<PeftBaseLayer> SelectTargets(PeftConfig config, PeftTunerMethod method)
    {
        var targets = config.Selector("target_modules") ?? method.DefaultTargets(ModelType)
            ?? throw new AdapterConfigException($"{config.Source}: Please specify `target_modules` in `peft_config` ({config.PeftType} has no default targets for model type \"{ModelType ?? "unknown"}\").");
        var modules = ModulesForMatching().ToArray();
        if (targets.Pattern is { } p && string.Equals(p, "all-linear", StringComparison.OrdinalIgnoreCase))
        {
            targets = AllLinear(config, modules);
            config.Document["target_modules"] = targets.ToJson();
        }
        else if (config.Document["target_modules"] is null)
        {
            config.Document["target_modules"] = targets.ToJson();
        }
        var rules = new PeftAdapterConfig
        {
            TargetModules = targets,
            LayersToTransform = config.LayersToTransform,
            LayersPattern = config.LayersPattern,
        };
        var exclude = config.Selector("exclude_modules");
        var selected = new List<PeftBaseLayer>();
        var excludedAny = false;
        var matchedAny = false;
        foreach (var (path, module) in modules)
        {
            if (!PeftMatching.IsTargeted(rules, path)) continue;
            matchedAny = true;
            if (exclude is not null && PeftMatching.IsTargeted(new PeftAdapterConfig { TargetModules = exclude }, path))
            {
                excludedAny = true;
                continue;
            }
            var layer = PeftBaseLayer.Describe(path, module);
            if (layer is not null && method.UnportedKinds.Contains(layer.Kind))
                throw new AdapterConfigException($"{config.Source}: Target module {path} ({layer.TypeName}): PEFT 0.14 adapts {layer.TypeName} with {method.PeftType}, but this port does not implement that layer type for {method.PeftType} yet.");
            if (layer is null || !method.SupportedKinds.Contains(layer.Kind))
                throw new AdapterConfigException($"{config.Source}: Target module {path} ({layer?.TypeName ?? module.GetType().Name}) is not supported. Currently, only the following modules are supported: {method.SupportedText}.");
            selected.Add(layer);
        }
        if (!matchedAny)
            throw new AdapterConfigException($"{config.Source}: Target modules {targets.ToJson().ToJsonString()} not found in the base model. Please check the target modules and try again.");
        if (selected.Count == 0 && excludedAny)
            throw new AdapterConfigException($"{config.Source}: All modules were excluded. This is likely unintended. Check your `target_modules` and `exclude_modules` configuration.");
        return selected;
    }

    // PEFT 0.14's "all-linear": the last name segment of every Linear/Conv1D, without the output layer.
    private PeftModuleSelector AllLinear(PeftConfig config, IReadOnlyList<(string Path, nn.Module Module)> modules)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (path, module) in modules)
        {
            if (PeftBaseLayer.Describe(path, module) is { Kind: PeftLayerKind.Linear or PeftLayerKind.Conv1D }) names.Add(path.Split('.')[^1]);
        }
        var topLevel = Model.named_children().Select(c => c.name).ToHashSet(StringComparer.Ordinal);
        if (topLevel.Contains("lm_head")) names.Remove("lm_head");
        else if (config.TaskType == "SEQ_CLS")
        {
            foreach (var head in new[] { "score", "classifier" })
            {
                if (topLevel.Contains(head)) { names.Remove(head); break; }
            }
        }
        return PeftModuleSelector.Of([.. names]);
    }

    private void AddModulesToSave(string adapter, PeftConfig config, bool fromFile)
    {
        var names = config.StringList("modules_to_save")?.ToList();
        if (config.TaskType is "SEQ_CLS" or "TOKEN_CLS")
        {
            names ??= [];
            var missing = PeftTaskTypes.ClassifierModuleNames.Where(n => !names.Contains(n, StringComparer.Ordinal)).ToArray();
            names.AddRange(missing);
            // PEFT appends its automatic heads to a new config, so saved configs list them. PEFT appends them again to a
            // config it reads back (and would save them twice); a config read here keeps its list as written.
            if (!fromFile && missing.Length > 0) config.Document["modules_to_save"] = ConfigValues.StringList(names);
        }
        if (names is not { Count: > 0 }) return;
        var wrapped = new PeftModulesToSave(adapter);
        foreach (var (path, module) in ModulesForMatching().ToArray())
        {
            if (!names.Any(n => path.EndsWith(n, StringComparison.Ordinal))) continue;
            wrapped.Wrap(path, module, State);
        }
        _modulesToSave[adapter] = wrapped;
    }

    private sealed class Scope(Action onDispose) : IDisposable
    {
        public void Dispose() => onDispose();
    }
}
