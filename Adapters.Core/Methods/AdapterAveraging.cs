using Adapters.Core.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Methods;

/// <summary>Python's linear <c>average_adapter</c>: every tensor of the new adapter is the weighted sum of the inputs' same tensor.</summary>
internal static class AdapterAveraging
{
    /// <summary>
    /// Fills adapter <paramref name="name"/> with <c>Σ λᵢ·Φᵢ</c> over <paramref name="adapters"/>; <paramref name="lambdaFor"/>
    /// may change the weight per key (LoRA's negate-only-B strategy). Run inside <c>no_grad</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An input lacks one of the new adapter's tensors.</exception>
    public static void Linear(AdapterModel model, string name, IReadOnlyList<string> adapters, IReadOnlyList<double> lambdas,
        Func<string, double, double>? lambdaFor = null)
    {
        var inputs = adapters.Select(model.GetAdapterStateDict).ToArray();
        foreach (var (key, target) in model.GetAdapterStateDict(name))
        {
            Tensor? sum = null;
            for (var i = 0; i < adapters.Count; i++)
            {
                var inputKey = AdapterWeightKeys.RenameFirst(key, name, adapters[i]);
                if (!inputs[i].TryGetValue(inputKey, out var value))
                    throw new ArgumentException($"Adapter \"{adapters[i]}\" has no tensor \"{inputKey}\" to average into \"{key}\".", nameof(adapters));
                var term = value * (lambdaFor?.Invoke(key, lambdas[i]) ?? lambdas[i]);
                sum = sum is null ? term : sum + term;
            }
            target.copy_(sum!);
        }
    }
}
