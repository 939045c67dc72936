using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>
/// PEFT 0.14's AdaLoRA <c>RankAllocator</c> for the one trainable AdaLoRA adapter: after each optimizer step it
/// smooths each tensor's sensitivity <c>|p·∇p|</c> (EMA <c>beta1</c>) and its uncertainty (EMA <c>beta2</c>), and on
/// masking steps zeroes the singular values (<c>lora_E</c> entries) whose triplet scores rank lowest, keeping the
/// budget of a cubic schedule from the initial rank sum down to <c>target_r</c> per module; the kept ranks become the
/// config's <c>rank_pattern</c>.
/// </summary>
internal sealed class AdaLoraRankAllocator
{
    private readonly PeftTunerModel _model;
    private readonly PeftConfig _config;
    private readonly string _adapter;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly Dictionary<string, Tensor> _expAvgIpt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _expAvgUnc = new(StringComparer.Ordinal);

    public AdaLoraRankAllocator(PeftTunerModel model, PeftConfig config, string adapter)
    {
        _model = model;
        _config = config;
        _adapter = adapter;
        _beta1 = config.Double("beta1", 0.85);
        _beta2 = config.Double("beta2", 0.85);
        if (!(_beta1 > 0 && _beta1 < 1) || !(_beta2 > 0 && _beta2 < 1))
            throw new Configuration.AdapterConfigException($"{config.Source}: AdaLoRA's beta1 and beta2 must lie strictly between 0 and 1 (found {_beta1}, {_beta2}).");
        var modules = Tensors("lora_A").ToArray();
        InitialBudget = modules.Sum(m => m.Tensor.shape[0]);
        TargetBudget = (long)config.Int("target_r", 8) * modules.Length;
    }

    /// <summary>The sum of the initial ranks (PEFT's <c>init_bgt</c>).</summary>
    public long InitialBudget { get; }

    /// <summary><c>target_r</c> times the number of adapted modules (PEFT's <c>target_bgt</c>).</summary>
    public long TargetBudget { get; }

    private long TotalStep => _config.Document["total_step"] is { } t && t.GetValue<long>() > 0 ? t.GetValue<long>()
        : throw new InvalidOperationException($"{_config.Source}: AdaLoRA's rank allocation needs `total_step` (> 0) in its config.");

    /// <summary>PEFT's <c>budget_schedule</c>: the rank budget at <paramref name="step"/> and whether to mask then.</summary>
    public (long Budget, bool Mask) BudgetSchedule(long step)
    {
        var tinit = _config.Int("tinit", 0);
        var tfinal = _config.Int("tfinal", 0);
        var total = TotalStep;
        if (step <= tinit) return (InitialBudget, false);
        if (step > total - tfinal) return (TargetBudget, true);
        var coefficient = 1 - (double)(step - tinit) / (total - tfinal - tinit);
        var budget = (long)((InitialBudget - TargetBudget) * Math.Pow(coefficient, 3) + TargetBudget);
        return (budget, step % _config.Int("deltaT", 1) == 0);
    }

    /// <summary>PEFT's <c>AdaLoraModel.update_and_allocate</c>; call after the optimizer step, before gradients are cleared.</summary>
    public void UpdateAndAllocate(long step)
    {
        var total = TotalStep;
        var final = total - _config.Int("tfinal", 0);
        using var _ = no_grad();
        if (step < final)
        {
            UpdateImportance();
            var (budget, mask) = BudgetSchedule(step);
            if (mask) _config.Document["rank_pattern"] = MaskToBudget(budget);
        }
        else if (step == final)
        {
            var (budget, _) = BudgetSchedule(step);
            _config.Document["rank_pattern"] = MaskToBudget(budget);
            _expAvgIpt.Clear();
            _expAvgUnc.Clear();
        }
        else
        {
            MaskUsingRankPattern();
        }
    }

    // The adapter's tensors of slot kind, by PEFT's in-memory name (<path>.<slot>.<adapter>).
    private IEnumerable<(string Name, Parameter Tensor, string Path)> Tensors(string slot) =>
        _model.LayersOf(_adapter).SelectMany(l => l.Slots.Where(s => s.Name == slot && s.Has(_adapter))
            .Select(s => ($"{l.Base.Path}.{slot}.{_adapter}", s[_adapter], l.Base.Path)));

    private void UpdateImportance()
    {
        foreach (var slot in new[] { "lora_A", "lora_E", "lora_B" })
        {
            foreach (var (name, p, _) in Tensors(slot))
            {
                // A tensor without a gradient (not trained this step) has zero sensitivity, as zeros_like would give.
                var ipt = p.grad is { } g ? (p * g).abs().detach() : zeros_like(p);
                var avg = _expAvgIpt.TryGetValue(name, out var a) ? a : zeros_like(p);
                var unc = _expAvgUnc.TryGetValue(name, out var u) ? u : zeros_like(p);
                var newAvg = (avg * _beta1 + ipt * (1 - _beta1)).DetachFromDisposeScope();
                var newUnc = (unc * _beta2 + (ipt - newAvg).abs() * (1 - _beta2)).DetachFromDisposeScope();
                a?.Dispose();
                u?.Dispose();
                _expAvgIpt[name] = newAvg;
                _expAvgUnc[name] = newUnc;
            }
        }
    }

    private Tensor Score(string name, Tensor like) =>
        _expAvgIpt.TryGetValue(name, out var avg) ? avg * _expAvgUnc[name] : zeros_like(like);

    private JsonObject MaskToBudget(long budget)
    {
        var triplets = new List<(string Path, Parameter E, Tensor Score)>();
        foreach (var (nameE, e, path) in Tensors("lora_E"))
        {
            var (nameA, a, _) = Tensors("lora_A").First(t => t.Path == path);
            var (nameB, b, _) = Tensors("lora_B").First(t => t.Path == path);
            // A's rows and B's columns are averaged to one score per singular value, then added to E's.
            var rowA = Score(nameA, a).mean([1], keepdim: true);
            var columnB = Score(nameB, b).mean([0], keepdim: false).view(-1, 1);
            var combined = Score(nameE, e).view(-1) + cat([rowA, columnB], 1).sum(1);
            triplets.Add((path, e, combined.view(-1, 1)));
        }
        var all = cat(triplets.Select(t => t.Score.view(-1)).ToArray());
        var k = InitialBudget - budget;
        // PEFT asks kthvalue for k = init_bgt - budget; k = 0 (nothing to prune) masks nothing.
        var threshold = k > 0 ? all.kthvalue(k, 0, false).Item1.item<float>() : float.NegativeInfinity;
        var pattern = new JsonObject();
        foreach (var (path, e, score) in triplets)
        {
            var masked = score <= threshold;
            e.masked_fill_(masked, 0.0);
            var kept = (~masked).view(-1).data<bool>().ToArray();
            pattern[$"{path}.lora_E"] = new JsonArray(kept.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        }
        return pattern;
    }

    /// <summary>
    /// PEFT's orthogonal regularization, which <c>AdaLoraModel.forward</c> adds to the loss:
    /// <c>orth_reg_weight</c> times the mean over the adapter's A and B of <c>‖A·Aᵀ − I‖_F</c> / <c>‖Bᵀ·B − I‖_F</c>.
    /// </summary>
    public Tensor OrthogonalRegularization()
    {
        var weight = _config.Double("orth_reg_weight", 0.5);
        if (weight <= 0) throw new InvalidOperationException($"{_config.Source}: orth_reg_weight should be greater than 0. ");
        var terms = new List<Tensor>();
        foreach (var slot in new[] { "lora_A", "lora_B" })
        {
            foreach (var (_, p, _) in Tensors(slot))
            {
                var covariance = slot == "lora_A" ? p.matmul(p.t()) : p.t().matmul(p);
                terms.Add(linalg.norm(covariance - eye(covariance.shape[0], dtype: covariance.dtype, device: covariance.device)));
            }
        }
        return terms.Count == 0 ? tensor(0f) : stack(terms).sum() / terms.Count * weight;
    }

    private void MaskUsingRankPattern()
    {
        if (_config.Document["rank_pattern"] is not JsonObject pattern) return;
        foreach (var (_, e, path) in Tensors("lora_E"))
        {
            if (pattern[$"{path}.lora_E"] is not JsonArray kept) continue;
            var mask = tensor(kept.Select(v => !v!.GetValue<bool>()).ToArray()).view(-1, 1);
            e.masked_fill_(mask, 0.0);
        }
    }
}
