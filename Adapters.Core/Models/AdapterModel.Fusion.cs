using System.Text.Json.Nodes;
using Adapters.Core.Composition;
using Adapters.Core.Configuration;
using Adapters.Core.Methods;
using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Methods.Fusion;
using Adapters.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>AdapterFusion: adding, deleting, training and moving fusion layers (Python's <c>*_adapter_fusion</c> methods).</summary>
public abstract partial class AdapterModel : ITrainingRegularizer
{
    private readonly Dictionary<string, (AdapterFusionConfig Config, string[] AdapterNames)> _fusions = new(StringComparer.Ordinal);

    /// <summary>Fusion names in the order they were added.</summary>
    public IReadOnlyCollection<string> FusionNames => _fusions.Keys;

    /// <summary>The config of fusion <paramref name="name"/>.</summary>
    public AdapterFusionConfig GetFusionConfig(string name) =>
        _fusions.TryGetValue(name, out var fusion) ? fusion.Config : throw new ArgumentException($"No AdapterFusion named \"{name}\".", nameof(name));

    /// <summary>The adapters fused by fusion <paramref name="name"/>.</summary>
    public IReadOnlyList<string> GetFusionAdapterNames(string name) =>
        _fusions.TryGetValue(name, out var fusion) ? fusion.AdapterNames : throw new ArgumentException($"No AdapterFusion named \"{name}\".", nameof(name));

    /// <summary>Adds a fusion of <paramref name="fuse"/>'s children, named after the block (<c>"a,b"</c> unless it has a custom name).</summary>
    public void AddAdapterFusion(Fuse fuse, AdapterFusionConfig? config = null, bool overwriteOk = false, bool setActive = false)
    {
        ArgumentNullException.ThrowIfNull(fuse);
        AddAdapterFusion(fuse.Children.Select(c => c.Last()).ToArray(), config, fuse.Name, overwriteOk, setActive);
    }

    /// <summary>Adds a fusion of the comma-separated adapters in <paramref name="adapterNames"/>, as Python accepts <c>"a,b"</c>.</summary>
    public void AddAdapterFusion(string adapterNames, AdapterFusionConfig? config = null, bool overwriteOk = false, bool setActive = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(adapterNames);
        AddAdapterFusion(adapterNames.Split(','), config, null, overwriteOk, setActive);
    }

    /// <summary>
    /// Adds an AdapterFusion layer over <paramref name="adapterNames"/> (Python's <c>add_adapter_fusion</c>) with
    /// <paramref name="config"/> (default: <see cref="AdapterFusionConfig.Dynamic"/>). A layer is created at every
    /// location (after attention, after the feed-forward block) that all fused adapters' configs enable. The name
    /// defaults to the names joined by commas.
    /// </summary>
    /// <exception cref="ArgumentException">An adapter does not exist or is not a bottleneck adapter, or the fusion exists and <paramref name="overwriteOk"/> is false.</exception>
    public void AddAdapterFusion(IReadOnlyList<string> adapterNames, AdapterFusionConfig? config = null, string? name = null, bool overwriteOk = false, bool setActive = false)
    {
        ArgumentNullException.ThrowIfNull(adapterNames);
        if (adapterNames.Count == 0) throw new ArgumentException("AdapterFusion needs at least one adapter.", nameof(adapterNames));
        config ??= AdapterFusionConfig.Dynamic;
        name ??= string.Join(",", adapterNames);
        if (name.Contains('.', StringComparison.Ordinal)) throw new ArgumentException($"AdapterFusion name \"{name}\" must not contain '.'.", nameof(name));
        AdapterFusionMethod.Validate(this, adapterNames);
        if (_fusions.ContainsKey(name))
        {
            if (!overwriteOk) throw new ArgumentException($"An AdapterFusion named \"{name}\" already exists; pass overwriteOk to replace it.", nameof(name));
            DeleteAdapterFusion(name);
        }

        AdapterFusionMethod.Add(this, name, config, adapterNames);
        _fusions[name] = (config, adapterNames.ToArray());
        train(training);
        if (setActive) SetActiveAdapters(new Fuse(adapterNames.Select(n => (CompositionChild)n)) { Name = name });
    }

    /// <summary>Removes fusion <paramref name="name"/>; if the active setup is that fusion, nothing stays active (as Python).</summary>
    /// <exception cref="ArgumentException">No such fusion.</exception>
    public void DeleteAdapterFusion(string name)
    {
        if (!_fusions.Remove(name)) throw new ArgumentException($"No AdapterFusion named \"{name}\".", nameof(name));
        AdapterFusionMethod.Remove(this, name);
        if (Setup.Composition is Fuse active && active.Name == name) Setup.Set((AdapterCompositionBlock?)null, Setup.SkipLayers);
    }

    /// <summary>Removes the fusion of <paramref name="fuse"/>.</summary>
    public void DeleteAdapterFusion(Fuse fuse)
    {
        ArgumentNullException.ThrowIfNull(fuse);
        DeleteAdapterFusion(fuse.Name);
    }

    /// <summary>
    /// Prepares fusion training, as Python's <c>train_adapter_fusion</c>: training mode, the model frozen, the fusion
    /// layers of <paramref name="setup"/> (a <see cref="Fuse"/> or a block whose direct children are) unfrozen, the
    /// fused adapters' per-layer modules unfrozen too when <paramref name="unfreezeAdapters"/>, and the setup activated.
    /// </summary>
    public void TrainAdapterFusion(AdapterCompositionBlock setup, bool unfreezeAdapters = false)
    {
        ArgumentNullException.ThrowIfNull(setup);
        CompositionRules.Validate(setup, 0, Interface.ModelType);
        train(true);
        FreezeModel(true);
        if (unfreezeAdapters)
        {
            // Python's train_adapter_fusion unfreezes the fused adapters' per-layer modules, not their shared parameters.
            foreach (var name in setup.Flatten())
                foreach (var (key, parameter) in AdapterParameters(name))
                    if (!AdapterWeightKeys.IsSharedParameter(key, name)) parameter.requires_grad = true;
        }
        var fused = new List<string>();
        if (setup is Fuse top) fused.Add(top.Name);
        fused.AddRange(setup.Children.Select(c => c.Block).OfType<Fuse>().Select(f => f.Name));
        AdapterFusionMethod.Unfreeze(this, fused);
        SetActiveAdapters(setup);
    }

    /// <summary>The fusion regularisation, so that <see cref="AdapterTrainer{TBatch}"/> adds it as Python's trainer does.</summary>
    Tensor? ITrainingRegularizer.RegularizationLoss() => GetFusionRegularizationLoss();

    /// <summary>
    /// Python's <c>get_fusion_regularization_loss</c>: <c>0.01·Σ‖I − V‖²_F</c> over every fusion value matrix that is
    /// trainable, or null when there is none. Add it to the training loss when training a fusion with value matrices.
    /// </summary>
    public Tensor? GetFusionRegularizationLoss() => AdapterFusionMethod.RegularizationLoss(this);

    /// <summary>
    /// The fusion's tensors keyed as Python's <c>save_adapter_fusion</c> writes them, e.g.
    /// <c>bert.encoder.layer.0.output.adapter_fusion_layer.a,b.query.weight</c>. Unlike Python's substring filter,
    /// fusion <c>a,b</c> does not also pick up <c>a,b,c</c>.
    /// </summary>
    public Dictionary<string, Tensor> GetAdapterFusionStateDict(string name)
    {
        GetFusionConfig(name);
        var marker = $".{AdapterFusionMethod.Container}.{name}.";
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in state_dict())
        {
            var full = Prefixed(key);
            if (full.Contains(marker, StringComparison.Ordinal)) result[full] = tensor.detach();
        }
        return result;
    }

    /// <summary>The <c>adapter_fusion_config.json</c> document Python writes for fusion <paramref name="name"/>.</summary>
    public JsonObject CreateAdapterFusionConfigDocument(string name)
    {
        var config = GetFusionConfig(name);
        return new JsonObject
        {
            ["model_type"] = Interface.ModelType,
            ["hidden_size"] = (long)Interface.HiddenSize,
            ["model_class"] = ModelClassName,
            ["model_name"] = ModelName ?? string.Empty,
            ["name"] = name,
            ["adapter_names"] = new JsonArray(GetFusionAdapterNames(name).Select(n => (JsonNode)n).ToArray()),
            ["config"] = config.ToJson(),
            ["version"] = AdapterConfigFile.CurrentVersion,
        };
    }

    /// <summary>
    /// Loads a saved fusion, as Python's <c>AdapterFusionLoader.load</c>: the fusion over the document's
    /// <c>adapter_names</c> is added as <paramref name="loadAs"/> (default: the saved name) unless it exists, the
    /// saved name inside the keys is renamed, and the base prefix is added or stripped as needed.
    /// </summary>
    /// <exception cref="AdapterLoadException">Fusion weights are missing or mis-shaped; a fusion added here is removed again.</exception>
    public AdapterLoadResult LoadAdapterFusionStateDict(JsonObject configDocument, IReadOnlyDictionary<string, Tensor> weights, string? loadAs = null, bool setActive = false)
    {
        ArgumentNullException.ThrowIfNull(configDocument);
        ArgumentNullException.ThrowIfNull(weights);
        var saved = configDocument["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s
            : throw new AdapterConfigException($"{AdapterFusionConfigFileName} has no \"name\".");
        var adapters = configDocument["adapter_names"] is JsonArray list
            ? list.Select(x => x is JsonValue v && v.TryGetValue<string>(out var a) ? a : throw new AdapterConfigException($"{AdapterFusionConfigFileName} \"adapter_names\" must hold strings.")).ToArray()
            : saved.Split(',');
        var config = configDocument["config"] is JsonObject c ? AdapterFusionConfig.FromJson(c)
            : throw new AdapterConfigException($"{AdapterFusionConfigFileName} has no \"config\" object.");
        var name = loadAs ?? saved;
        var added = !_fusions.ContainsKey(name);
        if (added) AddAdapterFusion(adapters, config, name);
        try
        {
            var modelTensors = NamedTensors();
            var expected = GetAdapterFusionStateDict(name).Keys.Select(Unprefixed).ToHashSet(StringComparer.Ordinal);
            var provided = new HashSet<string>(StringComparer.Ordinal);
            var unexpected = new List<string>();
            using (no_grad())
            {
                foreach (var (key, tensor) in weights)
                {
                    var renamed = Unprefixed(key.Replace($"{AdapterFusionMethod.Container}.{saved}.", $"{AdapterFusionMethod.Container}.{name}.", StringComparison.Ordinal));
                    if (!expected.Contains(renamed) || !modelTensors.TryGetValue(renamed, out var target))
                    {
                        unexpected.Add(key);
                        continue;
                    }
                    if (!target.shape.SequenceEqual(tensor.shape))
                        throw new AdapterLoadException(
                            $"Fusion weight \"{key}\" has shape [{string.Join(", ", tensor.shape)}] but the model's \"{Prefixed(renamed)}\" has [{string.Join(", ", target.shape)}].");
                    target.copy_(tensor);
                    provided.Add(renamed);
                }
            }
            var missing = expected.Where(k => !provided.Contains(k)).Select(Prefixed).OrderBy(k => k, StringComparer.Ordinal).ToArray();
            if (missing.Length > 0)
                throw new AdapterLoadException($"AdapterFusion \"{saved}\" is missing {missing.Length} weight(s): {string.Join(", ", missing.Take(10))}{(missing.Length > 10 ? ", …" : "")}.");
            if (setActive) SetActiveAdapters(new Fuse(adapters.Select(a => (CompositionChild)a)) { Name = name });
            return new AdapterLoadResult(name, missing, unexpected);
        }
        catch
        {
            if (added) DeleteAdapterFusion(name);
            throw;
        }
    }

    /// <summary>The file name of a fusion config (Python's <c>ADAPTERFUSION_CONFIG_NAME</c>).</summary>
    public const string AdapterFusionConfigFileName = "adapter_fusion_config.json";

    private static bool IsFusionKey(string key) => AdapterWeightKeys.IsFusion(key);
}
