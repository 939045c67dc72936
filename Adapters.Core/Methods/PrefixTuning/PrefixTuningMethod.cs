using Adapters.Core.Configuration;
using Adapters.Core.Methods.Union;
using Adapters.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.PrefixTuning;

/// <summary>
/// Prefix tuning: one prefix generator per adapter in the model's pool (<c>prefix_tuning.prefix_tunings.NAME</c>), and
/// a slot (plus UniPELT's gate) in every layer's <see cref="PrefixTuningLayer"/>. Python's files repeat the pool under
/// every layer's prefix module; this method writes and reads those repeats.
/// </summary>
internal sealed class PrefixTuningMethod()
    : AdapterMethod<PrefixTuningConfig>("Prefix tuning", [".prefix_tunings.", ".prefix_gates."], [PoolContainer])
{
    /// <summary>Python's name of the model-level pool.</summary>
    public const string PoolContainer = "prefix_tuning";

    private const string PoolDuplicateMarker = ".prefix_tuning.pool.prefix_tunings.";

    /// <inheritdoc />
    public override IEnumerable<(string Name, nn.Module Container)> CreateContainers(AdapterModel model) =>
        [(PoolContainer, new PrefixTuningPool())];

    /// <inheritdoc />
    protected override void Add(AdapterModel model, string name, PrefixTuningConfig prefix)
    {
        prefix.Validate();
        if (!model.AdapterContainersRegistered)
            throw new AdapterConfigException($"{model.ModelClassName} did not register its adapter containers, so it cannot hold prefix tuning.");
        var layers = model.Interface.Layers.Where(l => l.Prefix is not null && !prefix.LeaveOut.Contains(l.Index)).Select(l => l.Prefix!).ToArray();
        if (layers.Length == 0)
        {
            throw new AdapterConfigException(model.Interface.Layers.Any(l => l.Prefix is not null)
                ? $"prefix_tuning leave_out {string.Join(", ", prefix.LeaveOut)} leaves no layer of {model.ModelClassName} with a prefix."
                : $"{model.ModelClassName} does not support prefix tuning (no layer exposes a prefix hook; Python's plugin interface has none either).");
        }
        var (device, dtype) = model.ParameterDeviceAndType();
        var first = layers[0];
        if (prefix.InitWeightsSeed is { } seed && seed != 0) manual_seed(seed);
        PrefixGenerator generator = prefix.Flat
            ? new FlatPrefixGenerator(prefix, layers.Length, first.Heads, first.HeadDim, device, dtype)
            : new MlpPrefixGenerator(prefix, first.HiddenSize, layers.Length, first.Heads, first.HeadDim, device, dtype);
        var pool = Pool(model)!;
        pool.PrefixTunings.Add(name, AdapterModuleDict.Of((PrefixTuningPool.SelfPrefix, generator)));
        for (var row = 0; row < layers.Length; row++) layers[row].AddPrefix(name, row, pool, prefix, device, dtype);
    }

    /// <inheritdoc />
    public override void Remove(AdapterModel model, string name)
    {
        Pool(model)?.PrefixTunings.Remove(name);
        foreach (var layer in model.Interface.Layers) layer.Prefix?.Remove(name);
    }

    /// <summary>
    /// Python registers the prefix pool inside every attention's prefix layer as well, so its <c>save_adapter</c> writes
    /// each pool tensor again under <c>…attention.self.prefix_tuning.pool.prefix_tunings.NAME…</c> for every layer. These
    /// entries are added (sharing the pool tensors) so our files have the keys Python's have.
    /// </summary>
    public override void AddStateDictAliases(AdapterModel model, IDictionary<string, Tensor> state, string name)
    {
        if (Pool(model) is not { } pool || !pool.PrefixTunings.Contains(name)) return;
        var poolPrefix = model.PrefixedKey(PoolContainer + ".");
        var poolKeys = state.Keys.Where(k => k.StartsWith(poolPrefix + "prefix_tunings." + name + ".", StringComparison.Ordinal)).ToArray();
        foreach (var (path, module) in model.named_modules())
        {
            if (module is not PrefixTuningLayer) continue;
            foreach (var key in poolKeys) state[model.PrefixedKey(path + ".pool." + key[poolPrefix.Length..])] = state[key];
        }
    }

    /// <summary>Maps a per-layer repeat of a pool key (see <see cref="AddStateDictAliases"/>) to the pool's own key.</summary>
    public override string CanonicalKey(string unprefixedKey)
    {
        var index = unprefixedKey.IndexOf(PoolDuplicateMarker, StringComparison.Ordinal);
        return index < 0 ? unprefixedKey : PoolContainer + ".prefix_tunings." + unprefixedKey[(index + PoolDuplicateMarker.Length)..];
    }

    /// <summary>
    /// Python's <c>eject_prefix_tuning</c>: replaces adapter <paramref name="name"/>'s prefix MLP by its output and
    /// returns <paramref name="config"/> with <c>flat=True</c> on its prefix-tuning part.
    /// </summary>
    /// <exception cref="ArgumentException">The adapter has no prefix tuning.</exception>
    public static AdapterConfig Eject(AdapterModel model, string name, AdapterConfig config)
    {
        var group = Pool(model)?.PrefixTunings.Get<AdapterModuleDict>(name)
            ?? throw new ArgumentException($"Adapter \"{name}\" has no prefix tuning to eject.", nameof(name));
        foreach (var location in group.Names.ToArray())
        {
            if (group.Get<PrefixGenerator>(location) is not MlpPrefixGenerator mlp) continue;
            var trainable = mlp.parameters().All(p => p.requires_grad);
            Tensor values;
            using (no_grad()) values = mlp.FlatPrefixes().detach().clone();
            var flat = new FlatPrefixGenerator(mlp.Config with { Flat = true }, mlp.Layers, mlp.Heads, mlp.HeadDim, values, values.device, values.dtype);
            foreach (var parameter in flat.parameters()) parameter.requires_grad = trainable;
            flat.train(model.training);
            group.Remove(location);
            group.Add(location, flat);
        }
        return ConfigMembers.Map(config, c => c is PrefixTuningConfig p ? p with { Flat = true } : c);
    }

    private static PrefixTuningPool? Pool(AdapterModel model) => model.MethodContainer<PrefixTuningPool>(PoolContainer);
}
