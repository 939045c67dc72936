using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Peft.Tuners.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Operations;

/// <summary>
/// PEFT 0.14's <c>LoraModel.add_weighted_adapter</c>: a new LoRA adapter built from existing ones, with PEFT's checks
/// (same <c>r</c> for linear, one kind of <c>target_modules</c>, no shared <c>modules_to_save</c>), its new config
/// (<c>r = lora_alpha =</c> the new rank, targets joined) and its per-layer arithmetic.
/// </summary>
internal static class LoraWeightedAdapter
{
    public static void Add(PeftTunerModel model, IReadOnlyList<string> adapters, IReadOnlyList<double> weights, string name,
        LoraCombinationType combination, int? svdRank, double? svdClamp, bool svdFullMatrices)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentException.ThrowIfNullOrEmpty(name);
        // PEFT returns silently when the name is taken, before any check.
        if (model.Configs.ContainsKey(name)) return;
        if (adapters.Count == 0) throw new ArgumentException("Found no adapter to combine.", nameof(adapters));
        if (weights.Count != adapters.Count) throw new ArgumentException($"{weights.Count} weights for {adapters.Count} adapters.", nameof(weights));
        foreach (var adapter in adapters)
        {
            if (!model.Configs.TryGetValue(adapter, out var c)) throw new ArgumentException($"Adapter {adapter} does not exist", nameof(adapters));
            if (c.PeftType != "LORA") throw new ArgumentException($"Adapter {adapter} is {c.PeftType}; add_weighted_adapter combines LoRA adapters only (PEFT's {c.PeftType} model does not support add_weighted_adapter).", nameof(adapters));
        }
        var sharedHeads = model.ModulesToSavePaths(adapters);
        if (sharedHeads > 0)
            throw new ArgumentException($"Cannot add weighted adapters if they target the same module with modules_to_save, but found {sharedHeads} such instance(s).", nameof(adapters));

        if (adapters.Count == 1) combination = LoraCombinationType.Linear;
        var ranks = adapters.Select(a => model.Config(a).Int("r", 8)).ToArray();
        var newRank = combination switch
        {
            LoraCombinationType.Linear => ranks.Distinct().Count() == 1 ? ranks[0]
                : throw new ArgumentException("All adapters must have the same r value when using combination_type linear, ties, dare_ties or dare_linear.", nameof(adapters)),
            LoraCombinationType.Cat => ranks.Sum(),
            _ => svdRank ?? ranks.Max(),
        };
        var config = model.Config(adapters[0]).Clone();
        config.Document["r"] = newRank;
        config.Document["lora_alpha"] = newRank;
        config.Document["target_modules"] = JoinTargets(model, adapters);
        model.AddAdapter(name, config);

        using var _ = no_grad();
        foreach (var layer in model.LayersOf(name).OfType<LoraLayer>())
        {
            var (a, b) = layer.Factors(name);
            a.zero_();
            b.zero_();
            var present = adapters.Select((adapter, i) => (Adapter: adapter, Weight: weights[i])).Where(p => layer.Holds(p.Adapter)).ToArray();
            if (present.Length == 0) throw new InvalidOperationException($"{layer.Base.Path}: No matching LoRAs found.");
            switch (combination)
            {
                case LoraCombinationType.Cat:
                    Cat(layer, present, a, b);
                    break;
                case LoraCombinationType.Linear:
                    Linear(layer, present, a, b);
                    break;
                default:
                    Svd(layer, present, newRank, svdClamp, svdFullMatrices, a, b);
                    break;
            }
        }
    }

    // PEFT keeps a regex as "(p1)|(p2)…", and lists as the union of their sets.
    private static JsonNode JoinTargets(PeftTunerModel model, IReadOnlyList<string> adapters)
    {
        var selectors = adapters.Select(a => model.Config(a).Selector("target_modules")
            ?? throw new ArgumentException($"Adapter {a} has no target_modules.", nameof(adapters))).ToArray();
        if (selectors.Select(s => s.Pattern is null).Distinct().Count() > 1)
            throw new ArgumentException("all adapter configs should follow the same target modules type. Combining adapters with `target_modules` type being a mix of list/set and string is not supported.", nameof(adapters));
        if (selectors[0].Pattern is not null) return JsonValue.Create(string.Join("|", selectors.Select(s => $"({s.Pattern})")));
        var union = new List<string>();
        foreach (var n in selectors.SelectMany(s => s.Names!))
        {
            if (!union.Contains(n)) union.Add(n);
        }
        return PeftModuleSelector.Of([.. union]).ToJson();
    }

    private static void Cat(LoraLayer layer, (string Adapter, double Weight)[] present, Tensor a, Tensor b)
    {
        long row = 0;
        foreach (var (adapter, weight) in present)
        {
            var (ai, bi) = layer.Factors(adapter);
            var rank = ai.shape[0];
            a.narrow(0, row, rank).copy_(ai * Weight32(weight * layer.Scaling(adapter)));
            b.narrow(1, row, rank).copy_(bi);
            row += rank;
        }
    }

    private static void Linear(LoraLayer layer, (string Adapter, double Weight)[] present, Tensor a, Tensor b)
    {
        foreach (var (adapter, weight) in present)
        {
            var (ai, bi) = layer.Factors(adapter);
            // PEFT splits w·s evenly between the factors (as a float32 tensor of square roots).
            var factor = Weight32(Math.Sqrt(weight * layer.Scaling(adapter)));
            a.add_(ai * factor);
            b.add_(bi * factor);
        }
    }

    private static void Svd(LoraLayer layer, (string Adapter, double Weight)[] present, int rank, double? clamp, bool fullMatrices, Tensor a, Tensor b)
    {
        // PEFT 0.14 scales twice here: get_delta_weight already holds s, and the weight is multiplied by s again.
        Tensor? delta = null;
        foreach (var (adapter, weight) in present)
        {
            var term = layer.DeltaWeight(adapter) * Weight32(weight * layer.Scaling(adapter));
            delta = delta is null ? term : delta + term;
        }
        // Conv2d: PEFT factorises the update flattened to (out, in·kh·kw) and reshapes the factors back.
        var conv = delta!.dim() == 4;
        if (conv) delta = delta.flatten(1);
        var (u, s, vh) = linalg.svd(delta, fullMatrices: fullMatrices);
        var keep = Math.Min(rank, s.shape[0]);
        var newB = u.narrow(1, 0, keep).matmul(diag(s.narrow(0, 0, keep)));
        var newA = vh.narrow(0, 0, keep);
        if (clamp is { } q)
        {
            var high = cat([newB.flatten(), newA.flatten()]).quantile(tensor(q, newB.dtype)).item<float>();
            newB = newB.clamp(-high, high);
            newA = newA.clamp(-high, high);
        }
        if (keep < rank)
            throw new InvalidOperationException($"{layer.Base.Path}: svd_rank {rank} exceeds the rank the layer's update can have ({keep}); choose svd_rank ≤ {keep}.");
        a.copy_(conv ? newA.reshape(a.shape) : newA);
        b.copy_(conv ? newB.reshape(b.shape) : newB);
    }

    // PEFT builds its weights with torch.tensor(python floats): float32.
    private static Tensor Weight32(double value) => tensor((float)value);
}
