using Adapters.Core.Configuration;
using Adapters.Core.Methods;
using Adapters.Core.Methods.PrefixTuning;
using Adapters.Core.Methods.PromptTuning;
using Adapters.Core.Methods.ReFT;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>Prefix tuning, prompt tuning and ReFT: adding, ejecting and the hooks models call in their forward pass.</summary>
public abstract partial class AdapterModel
{
    private const string PrefixPoolName = "prefix_tuning";
    private const string PrefixPoolDuplicateMarker = ".prefix_tuning.pool.prefix_tunings.";
    private readonly PrefixTuningPool _prefixPool = new();
    private PromptTuningLayer? _promptTuning;

    /// <summary>
    /// Turns a text into the token ids the model's own tokenizer gives, special tokens included (Python calls
    /// <c>tokenizer(text)["input_ids"]</c>). Needed by prompt tuning with <c>prompt_init="from_string"</c>.
    /// </summary>
    public Func<string, IReadOnlyList<long>>? PromptTokenizer { get; set; }

    /// <summary>
    /// Whether the model's forward calls <see cref="ApplyPromptTuning"/> after its embeddings; prompt tuning is refused
    /// otherwise. A user's model that does overrides this with true.
    /// </summary>
    protected virtual bool SupportsPromptTuning => false;

    /// <summary>The word embedding matrix (vocab, H) that <c>prompt_init="from_string"</c> reads; null when the model has none.</summary>
    protected virtual Tensor? PromptWordEmbeddings => this is ITextEncoder encoder ? encoder.WordEmbeddings : null;

    /// <summary>
    /// Opens the per-forward adapter context of this model (Python's <c>ForwardContext</c>: prefix states shared by all
    /// layers, the attention mask ReFT reads, batch replication by Parallel, fusion attentions). Call at the start of
    /// the model's forward with the input mask (B, S) and dispose at the end.
    /// </summary>
    protected AdapterForwardContext BeginAdapterForward(Tensor? attentionMask) => Setup.BeginForward(attentionMask);

    /// <summary>
    /// Applies the first active adapter's prompt to the embedding output and puts the prompt's attended positions in
    /// front of the (B, S) mask, 1 = attend (also for <c>prefix_after_bos</c>, as Python does).
    /// </summary>
    protected (Tensor Hidden, Tensor? AttentionMask) ApplyPromptTuning(Tensor embeddings, Tensor? attentionMask)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (_promptTuning is null) return (embeddings, attentionMask);
        var (hidden, length) = _promptTuning.Forward(embeddings);
        if (length == 0 || attentionMask is null) return (hidden, attentionMask);
        var prompt = ones([attentionMask.shape[0], length], attentionMask.dtype, attentionMask.device);
        return (hidden, cat([prompt, attentionMask], 1));
    }

    /// <summary>
    /// Replaces the MLP that generates adapter <paramref name="name"/>'s prefixes by its output, as Python's
    /// <c>eject_prefix_tuning</c> does: the forward pass gives the same outputs, with far fewer parameters, and the
    /// stored config gets <c>flat=True</c> so that a saved adapter reloads with the flat layout.
    /// </summary>
    /// <exception cref="ArgumentException">The adapter has no prefix tuning.</exception>
    public void EjectPrefixTuning(string name)
    {
        var config = GetAdapterConfig(name);
        var group = _prefixPool.PrefixTunings.Get<AdapterModuleDict>(name)
            ?? throw new ArgumentException($"Adapter \"{name}\" has no prefix tuning to eject.", nameof(name));
        foreach (var location in group.Names.ToArray())
        {
            if (group.Get<PrefixGenerator>(location) is not MlpPrefixGenerator mlp) continue;
            var trainable = mlp.parameters().All(p => p.requires_grad);
            Tensor values;
            using (no_grad()) values = mlp.FlatPrefixes().detach().clone();
            var flat = new FlatPrefixGenerator(mlp.Config with { Flat = true }, mlp.Layers, mlp.Heads, mlp.HeadDim, values, values.device, values.dtype);
            foreach (var parameter in flat.parameters()) parameter.requires_grad = trainable;
            flat.train(training);
            group.Remove(location);
            group.Add(location, flat);
        }
        _configs[name] = config switch
        {
            PrefixTuningConfig prefix => prefix with { Flat = true },
            ConfigUnion union => new ConfigUnion(union.Configs.Select(c => c is PrefixTuningConfig p ? p with { Flat = true } : c).ToArray()),
            _ => config,
        };
    }

    private void RegisterMethodContainers()
    {
        _promptTuning ??= new PromptTuningLayer(Setup);
        register_module(PrefixPoolName, _prefixPool);
        register_module("prompt_tuning", _promptTuning);
    }

    /// <summary>Adds the modules of a prefix tuning, prompt tuning or ReFT config; false for other config types.</summary>
    private bool AddMethodAdapter(string name, AdapterConfig config)
    {
        switch (config)
        {
            case PrefixTuningConfig prefix: AddPrefixTuning(name, prefix); return true;
            case PromptTuningConfig prompt: AddPromptTuning(name, prompt); return true;
            case ReftConfig reft: AddReft(name, reft); return true;
            default: return false;
        }
    }

    private void AddPrefixTuning(string name, PrefixTuningConfig config)
    {
        config.Validate();
        if (_promptTuning is null)
            throw new AdapterConfigException($"{ModelClassName} did not register its adapter containers, so it cannot hold prefix tuning.");
        var layers = Interface.Layers.Where(l => l.Prefix is not null && !config.LeaveOut.Contains(l.Index)).Select(l => l.Prefix!).ToArray();
        if (layers.Length == 0)
        {
            throw new AdapterConfigException(Interface.Layers.Any(l => l.Prefix is not null)
                ? $"prefix_tuning leave_out {string.Join(", ", config.LeaveOut)} leaves no layer of {ModelClassName} with a prefix."
                : $"{ModelClassName} does not support prefix tuning (no layer exposes a prefix hook; Python's plugin interface has none either).");
        }
        var (device, dtype) = DeviceAndType();
        var first = layers[0];
        var headDim = first.HeadDim;
        if (config.InitWeightsSeed is { } seed && seed != 0) manual_seed(seed);
        PrefixGenerator generator = config.Flat
            ? new FlatPrefixGenerator(config, layers.Length, first.Heads, headDim, device, dtype)
            : new MlpPrefixGenerator(config, first.HiddenSize, layers.Length, first.Heads, headDim, device, dtype);
        _prefixPool.PrefixTunings.Add(name, AdapterModuleDict.Of((PrefixTuningPool.SelfPrefix, generator)));
        for (var row = 0; row < layers.Length; row++) layers[row].AddPrefix(name, row, _prefixPool, config, device, dtype);
    }

    private void AddPromptTuning(string name, PromptTuningConfig config)
    {
        if (_promptTuning is null || !SupportsPromptTuning)
            throw new AdapterConfigException($"{ModelClassName} does not support prompt tuning (its forward does not apply prompts after the embeddings).");
        var (device, dtype) = DeviceAndType();
        var wordEmbeddings = PromptWordEmbeddings;
        if (config.InitWeightsSeed is { } seed && seed != 0) manual_seed(seed);
        _promptTuning.PromptTunings.Add(name, new PromptTuningModule(config, Interface.HiddenSize, wordEmbeddings, PromptTokenizer, device, dtype));
    }

    private void AddReft(string name, ReftConfig config)
    {
        config.Validate();
        if (!config.OutputReft) throw new AdapterConfigException("ReFT output_reft=False selects no location; Python only intervenes on layer outputs.");
        var layers = Interface.Layers.Where(l => l.Reft is not null && config.AppliesTo(l.Index)).Select(l => l.Reft!).ToArray();
        if (layers.Length == 0)
        {
            throw new AdapterConfigException(Interface.Layers.Any(l => l.Reft is not null)
                ? $"ReFT layers [{string.Join(", ", config.Layers ?? [])}] select no layer of {ModelClassName}."
                : $"{ModelClassName} does not support ReFT (no layer exposes a ReFT hook in its AdapterLayerInterface).");
        }
        var (device, dtype) = DeviceAndType();
        if (config.Dtype is { } dtypeName) dtype = ParseDtype(dtypeName);
        foreach (var layer in layers)
        {
            if (config.InitWeightsSeed is { } seed && seed != 0) manual_seed(seed);
            layer.Refts.Add(name, new ReftModule(config, Interface.HiddenSize, device, dtype));
        }
    }

    private void RemoveMethodModules(string name)
    {
        _prefixPool.PrefixTunings.Remove(name);
        _promptTuning?.PromptTunings.Remove(name);
        foreach (var layer in Interface.Layers)
        {
            layer.Prefix?.Remove(name);
            layer.Reft?.Refts.Remove(name);
        }
    }

    /// <summary>
    /// Python registers the prefix pool inside every attention's prefix layer as well, so its <c>save_adapter</c> writes
    /// each pool tensor again under <c>…attention.self.prefix_tuning.pool.prefix_tunings.NAME…</c> for every layer. These
    /// entries are added (sharing the pool tensors) so our files have the keys Python's have.
    /// </summary>
    private void AddPrefixPoolDuplicates(Dictionary<string, Tensor> state, string name)
    {
        if (!_prefixPool.PrefixTunings.Contains(name)) return;
        var poolPrefix = Prefixed(PrefixPoolName + ".");
        var poolKeys = state.Keys.Where(k => k.StartsWith(poolPrefix + "prefix_tunings." + name + ".", StringComparison.Ordinal)).ToArray();
        foreach (var (path, module) in named_modules())
        {
            if (module is not PrefixTuningLayer) continue;
            foreach (var key in poolKeys) state[Prefixed(path + ".pool." + key[poolPrefix.Length..])] = state[key];
        }
    }

    /// <summary>Maps a per-layer duplicate of a prefix-pool key (see <see cref="AddPrefixPoolDuplicates"/>) to the pool's own key.</summary>
    private static string CanonicalAdapterKey(string unprefixedKey)
    {
        var index = unprefixedKey.IndexOf(PrefixPoolDuplicateMarker, StringComparison.Ordinal);
        return index < 0 ? unprefixedKey : PrefixPoolName + ".prefix_tunings." + unprefixedKey[(index + PrefixPoolDuplicateMarker.Length)..];
    }
}
