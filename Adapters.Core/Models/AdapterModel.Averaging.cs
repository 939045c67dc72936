using Adapters.Core.Composition;
using Adapters.Core.Configuration;
using Adapters.Core.Methods;
using Adapters.Core.Methods.LoRA;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>Creating an adapter as a weighted combination of others (Python's <c>average_adapter</c>).</summary>
public abstract partial class AdapterModel
{
    /// <summary>
    /// Adds adapter <paramref name="name"/> as a weighted combination of <paramref name="adapters"/>, as Python's
    /// <c>average_adapter</c>. All inputs must have the same config up to <c>dropout</c> and <c>init_weights</c>
    /// (Python's config hash). Weights default to 1/N and are divided by their sum when
    /// <paramref name="normalizeWeights"/>. With <see cref="AdapterCombineStrategy.LoRADeltaWSvd"/> the new LoRA has
    /// <c>r = <paramref name="svdRank"/></c> and the old alpha, so its effective scale changes (see the strategy).
    /// </summary>
    /// <exception cref="ArgumentException">An input is missing, the configs differ, or the strategy does not fit the method.</exception>
    public void AverageAdapter(string name, IReadOnlyList<string> adapters, IReadOnlyList<double>? weights = null,
        AdapterCombineStrategy combineStrategy = AdapterCombineStrategy.Linear, bool normalizeWeights = true, int? svdRank = null,
        bool overwriteOk = false, bool setActive = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(adapters);
        if (adapters.Count == 0) throw new ArgumentException("No adapters to average; give at least one.", nameof(adapters));
        if (weights is not null && weights.Count != adapters.Count)
            throw new ArgumentException($"{adapters.Count} adapters but {weights.Count} weights; give one weight per adapter.", nameof(weights));
        var config = GetAdapterConfig(adapters[0]);
        var identity = AveragingConfigIdentity.Of(config.ToJson(), "dropout", "init_weights");
        foreach (var other in adapters.Skip(1))
            if (AveragingConfigIdentity.Of(GetAdapterConfig(other).ToJson(), "dropout", "init_weights") != identity)
                throw new ArgumentException($"Cannot average adapters with different configurations: \"{other}\" differs from \"{adapters[0]}\" beyond dropout and init_weights.", nameof(adapters));
        if (combineStrategy != AdapterCombineStrategy.Linear)
        {
            if (config is not LoRAConfig lora)
                throw new ArgumentException($"Combine strategy {combineStrategy} is only supported for LoRA adapters; \"{adapters[0]}\" is {config.DisplayArchitecture}. Use Linear.", nameof(combineStrategy));
            if (lora.IsVera) throw new ArgumentException("VeRA adapters only support the Linear combine strategy.", nameof(combineStrategy));
            if (combineStrategy == AdapterCombineStrategy.LoRADeltaWSvd)
            {
                if (svdRank is not { } rank || rank <= 0) throw new ArgumentException("svdRank must be set to a positive rank for LoRADeltaWSvd.", nameof(svdRank));
                config = lora with { R = rank };
            }
        }

        var sum = weights is null ? 1.0 : normalizeWeights ? weights.Sum() : 1.0;
        if (sum == 0) throw new ArgumentException("The weights sum to 0 and cannot be normalised.", nameof(weights));
        var lambdas = weights is null ? Enumerable.Repeat(1.0 / adapters.Count, adapters.Count).ToArray() : weights.Select(w => w / sum).ToArray();

        if (overwriteOk && _configs.ContainsKey(name)) DeleteAdapter(name);
        if (adapters.Contains(name)) throw new ArgumentException($"The averaged adapter \"{name}\" cannot also be an input.", nameof(name));
        AddAdapter(name, config);
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            if (combineStrategy == AdapterCombineStrategy.LoRADeltaWSvd) FillBySvd(name, adapters, lambdas, svdRank!.Value);
            else FillLinearly(name, adapters, lambdas, combineStrategy == AdapterCombineStrategy.LoRALinearOnlyNegateB);
        }
        catch
        {
            DeleteAdapter(name);
            throw;
        }
        if (setActive) SetActiveAdapters(name);
    }

    private void FillLinearly(string name, IReadOnlyList<string> adapters, double[] lambdas, bool negateOnlyB)
    {
        var inputs = adapters.Select(a => GetAdapterStateDict(a)).ToArray();
        foreach (var (key, target) in GetAdapterStateDict(name))
        {
            Tensor? sum = null;
            for (var i = 0; i < adapters.Count; i++)
            {
                var inputKey = RenameForAveraging(key, name, adapters[i]);
                if (!inputs[i].TryGetValue(inputKey, out var value))
                    throw new ArgumentException($"Adapter \"{adapters[i]}\" has no tensor \"{inputKey}\" to average into \"{key}\".", nameof(adapters));
                var lambda = lambdas[i];
                if (negateOnlyB)
                {
                    if (key.EndsWith(".lora_A", StringComparison.Ordinal)) lambda = Math.Abs(lambda);
                    else if (!key.EndsWith(".lora_B", StringComparison.Ordinal))
                        throw new ArgumentException($"LoRALinearOnlyNegateB combines only lora_A and lora_B, but the adapter also has \"{key}\".", nameof(adapters));
                }
                var term = value * lambda;
                sum = sum is null ? term : sum + term;
            }
            target.copy_(sum!);
        }
    }

    private void FillBySvd(string name, IReadOnlyList<string> adapters, double[] lambdas, int rank)
    {
        foreach (var linear in AdaptableLinears().Where(l => l.Loras.Contains(name)))
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

    private static string RenameForAveraging(string key, string from, string to) => AdapterWeightKeys.RenameFirst(key, from, to);
}
