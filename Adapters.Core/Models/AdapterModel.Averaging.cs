using Adapters.Core.Composition;
using Adapters.Core.Configuration;
using Adapters.Core.Methods;
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
        var method = AdapterMethodRegistry.For(config);
        config = method.AveragedConfig(config, adapters[0], combineStrategy, svdRank);

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
            method.Average(this, name, adapters, lambdas, combineStrategy, svdRank);
        }
        catch
        {
            DeleteAdapter(name);
            throw;
        }
        if (setActive) SetActiveAdapters(name);
    }
}
