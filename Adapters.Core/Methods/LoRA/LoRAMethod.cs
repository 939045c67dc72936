using Adapters.Core.Composition;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// The LoRA family (LoRA, IA³, DoRA, VeRA) on the projections a layer exposes as <see cref="AdaptableLinear"/>, and
/// on a fused q/k/v projection (<see cref="FusedQkvLinear"/>). Owns merging, the LoRA-only averaging strategies and
/// VeRA's frozen shared matrices.
/// </summary>
internal sealed class LoRAMethod() : AdapterMethod<LoRAConfig>("LoRA", [".loras."], ["loras"])
{
    /// <inheritdoc />
    protected override void Add(AdapterModel model, string name, LoRAConfig lora)
    {
        var (device, dtype) = model.ParameterDeviceAndType();
        if (lora.Dtype is { } dtypeName) dtype = AdapterDtype.Parse(dtypeName);
        var scale = lora.CompositionMode switch
        {
            "add" => false,
            "scale" => true,
            var other => throw new AdapterConfigException($"Unknown composition_mode \"{other}\"; expected \"add\" or \"scale\"."),
        };
        SharedParameters? shared = null;
        foreach (var layer in model.Interface.Layers)
        {
            if (lora.LeaveOut.Contains(layer.Index)) continue;
            foreach (var linear in Targets(layer, lora))
            {
                if (lora.InitWeightsSeed is { } seed && seed != 0) manual_seed(seed);
                LoRALayer module;
                if (lora.IsVera)
                {
                    if (shared is null)
                    {
                        shared = model.SharedParametersFor(name);
                        VeraModule.CreateShared(shared, lora, linear.InFeatures, linear.OutFeatures, device, dtype);
                    }
                    module = new VeraModule(lora, linear.InFeatures, linear.OutFeatures, linear.OutInWeight, shared, device, dtype);
                }
                else if (scale)
                {
                    module = new IA3Module(lora, linear.InFeatures, linear.OutFeatures, linear.OutInWeight, device, dtype);
                }
                else
                {
                    module = new LoRAModule(lora, linear.InFeatures, linear.OutFeatures, linear.OutInWeight, device, dtype);
                }
                linear.Loras.Add(name, module);
            }
            if (lora.SelfattnLora && layer.FusedQkv is { } fused && AdaptsQkv(lora))
            {
                if (lora.InitWeightsSeed is { } seed && seed != 0) manual_seed(seed);
                fused.Loras.Add(name, new FusedQkvLoRA(lora, fused.InFeatures, fused.OutFeatures, device, dtype));
            }
        }
    }

    /// <inheritdoc />
    public override void Remove(AdapterModel model, string name)
    {
        foreach (var linear in model.Interface.AdaptableLinears())
        {
            if (linear.MergedAdapter == name) linear.Reset();
            linear.Loras.Remove(name);
        }
        foreach (var fused in model.Interface.FusedQkvLinears())
        {
            if (fused.MergedAdapter == name) fused.Reset();
            fused.Loras.Remove(name);
        }
    }

    /// <summary>VeRA's shared A and B are frozen random projections; they never train.</summary>
    public override bool StaysFrozen(AdapterConfig config, string key, string name) =>
        config is LoRAConfig { IsVera: true } && AdapterWeightKeys.IsSharedParameter(key, name);

    /// <inheritdoc />
    public override bool CanMerge(AdapterConfig config) => true;

    /// <inheritdoc />
    public override void Merge(AdapterModel model, string name, AdapterConfig config)
    {
        foreach (var linear in model.Interface.AdaptableLinears().Where(l => l.Loras.Contains(name))) linear.Merge(name);
        foreach (var fused in model.Interface.FusedQkvLinears().Where(l => l.Loras.Contains(name))) fused.Merge(name);
    }

    /// <inheritdoc />
    public override void Reset(AdapterModel model)
    {
        foreach (var linear in model.Interface.AdaptableLinears()) linear.Reset();
        foreach (var fused in model.Interface.FusedQkvLinears()) fused.Reset();
    }

    /// <inheritdoc />
    public override AdapterConfig AveragedConfig(AdapterConfig config, string firstAdapter, AdapterCombineStrategy strategy, int? svdRank)
    {
        var lora = (LoRAConfig)config;
        if (strategy == AdapterCombineStrategy.Linear) return lora;
        if (lora.IsVera) throw new ArgumentException("VeRA adapters only support the Linear combine strategy.", "combineStrategy");
        if (strategy != AdapterCombineStrategy.LoRADeltaWSvd) return lora;
        if (svdRank is not { } rank || rank <= 0) throw new ArgumentException("svdRank must be set to a positive rank for LoRADeltaWSvd.", nameof(svdRank));
        return lora with { R = rank };
    }

    /// <inheritdoc />
    public override void Average(AdapterModel model, string name, IReadOnlyList<string> adapters, IReadOnlyList<double> lambdas, AdapterCombineStrategy strategy, int? svdRank)
    {
        switch (strategy)
        {
            case AdapterCombineStrategy.LoRADeltaWSvd: AverageBySvd(model, name, adapters, lambdas, svdRank!.Value); break;
            case AdapterCombineStrategy.LoRALinearOnlyNegateB: AdapterAveraging.Linear(model, name, adapters, lambdas, NegateOnlyB); break;
            default: AdapterAveraging.Linear(model, name, adapters, lambdas); break;
        }
    }

    /// <summary>The projections of <paramref name="layer"/> that <paramref name="config"/> adapts with separate LoRA modules.</summary>
    public static IEnumerable<AdaptableLinear> Targets(AdapterLayerInterface layer, LoRAConfig config)
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

    /// <summary>The fused q/k/v projections <paramref name="config"/> adapts.</summary>
    public static IEnumerable<FusedQkvLinear> FusedTargets(AdapterModelInterface model, LoRAConfig config) =>
        config.SelfattnLora && AdaptsQkv(config)
            ? model.Layers.Where(l => !config.LeaveOut.Contains(l.Index)).Select(l => l.FusedQkv).OfType<FusedQkvLinear>().Distinct()
            : [];

    private static bool AdaptsQkv(LoRAConfig config) => config.AttnMatrices.Any(m => m is "q" or "k" or "v");

    /// <summary>Python's <c>lora_linear_only_negate_b</c>: A is combined with |λ|, B with λ, and nothing else is allowed.</summary>
    private static double NegateOnlyB(string key, double lambda)
    {
        if (key.EndsWith(".lora_A", StringComparison.Ordinal)) return Math.Abs(lambda);
        if (key.EndsWith(".lora_B", StringComparison.Ordinal)) return lambda;
        throw new ArgumentException($"LoRALinearOnlyNegateB combines only lora_A and lora_B, but the adapter also has \"{key}\".", "adapters");
    }

    private static void AverageBySvd(AdapterModel model, string name, IReadOnlyList<string> adapters, IReadOnlyList<double> lambdas, int rank)
    {
        foreach (var linear in model.Interface.AdaptableLinears().Where(l => l.Loras.Contains(name)))
        {
            var modules = adapters.Select(a => linear.Loras.Get<LoRALayer>(a)
                ?? throw new ArgumentException($"Adapter \"{a}\" has no LoRA module at layer {linear.LayerIndex} ({linear.Location}).", nameof(adapters))).ToArray();
            Tensor? delta = null;
            for (var i = 0; i < modules.Length; i++)
            {
                var parts = modules[i].state_dict();
                if (!parts.TryGetValue("lora_A", out var a) || !parts.TryGetValue("lora_B", out var b) || parts.Count != 2)
                    throw new ArgumentException($"LoRADeltaWSvd needs plain LoRA modules with only lora_A and lora_B; \"{adapters[i]}\" has {string.Join(", ", parts.Keys)}.", nameof(adapters));
                var term = matmul(b, a) * lambdas[i];
                delta = delta is null ? term : delta + term;
            }
            var (u, s, vh) = linalg.svd(delta!, fullMatrices: true);
            if (rank > s.shape[0])
                throw new ArgumentException($"svdRank {rank} exceeds the rank limit {s.shape[0]} of the {linear.OutFeatures}×{linear.InFeatures} layer.", nameof(rank));
            var target = linear.Loras.Get<LoRALayer>(name)!.state_dict();
            target["lora_A"].copy_(vh.slice(0, 0, rank, 1));
            target["lora_B"].copy_(matmul(u.slice(1, 0, rank, 1), diag(s.slice(0, 0, rank, 1))));
        }
    }
}
