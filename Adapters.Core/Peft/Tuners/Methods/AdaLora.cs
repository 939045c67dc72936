using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>
/// PEFT 0.14's AdaLoRA (<c>ADALORA</c>): an SVD-shaped update <c>B·(A ⊙ E)</c> whose ranks the allocator prunes during
/// training; saved adapters carry the kept ranks in <c>rank_pattern</c> and rank-truncated tensors.
/// </summary>
internal sealed class AdaLoraMethod : PeftTunerMethod
{
    private static readonly HashSet<PeftLayerKind> s_kinds = [PeftLayerKind.Linear, PeftLayerKind.Conv1D];

    /// <inheritdoc />
    public override string PeftType => "ADALORA";

    /// <inheritdoc />
    public override IReadOnlySet<string> KnownFields { get; } = PeftPatterns.Fields(
        "r", "target_modules", "exclude_modules", "lora_alpha", "lora_dropout", "fan_in_fan_out", "bias", "use_rslora",
        "modules_to_save", "init_lora_weights", "layers_to_transform", "layers_pattern", "rank_pattern", "alpha_pattern",
        "megatron_config", "megatron_core", "loftq_config", "eva_config", "use_dora", "layer_replication", "lora_bias",
        "target_r", "init_r", "tinit", "tfinal", "deltaT", "beta1", "beta2", "orth_reg_weight", "total_step");

    /// <inheritdoc />
    public override IReadOnlySet<PeftLayerKind> SupportedKinds => s_kinds;

    /// <inheritdoc />
    public override string SupportedText => "`torch.nn.Linear`, `transformers.pytorch_utils.Conv1D`";

    /// <inheritdoc />
    public override void Validate(PeftConfig config)
    {
        if (config.Bool("use_dora", false)) throw new AdapterConfigException($"{config.Source}: ADALORA does not support DoRA.");
        if (config.Document["loftq_config"] is System.Text.Json.Nodes.JsonObject { Count: > 0 })
            throw new AdapterConfigException($"{config.Source}: ADALORA does not support LOFTQ.");
        if (config.String("bias") is { } bias && bias != "none")
            throw new AdapterConfigException($"{config.Source}: bias=\"{bias}\" trains base-layer biases; this port's PEFT tuners keep the base model frozen.");
    }

    /// <inheritdoc />
    public override void PrepareLayer(PeftConfig config, PeftBaseLayer layer) => ForceFanInFanOut(config, layer);

    /// <inheritdoc />
    public override PeftTunerLayer CreateLayer(PeftBaseLayer layer, PeftAdapterState state) => new AdaLoraLayer(layer, state);

    /// <summary>An adapter created for training (not <c>inference_mode</c>) gets the rank allocator; PEFT allows one such adapter.</summary>
    public override void AfterInject(PeftTunerModel model, string adapter, PeftConfig config, IReadOnlyList<PeftTunerLayer> layers)
    {
        if (config.Bool("inference_mode", false)) return;
        if (model.AdaLoraAllocator is { } existing)
            throw new AdapterConfigException($"{config.Source}: AdaLoraModel supports only 1 trainable adapter. When using multiple adapters, set inference_mode to True for all adapters except the one you want to train.");
        model.AdaLoraAllocator = new AdaLoraRankAllocator(model, config, adapter);
    }

    /// <summary>PEFT's <c>resize_state_dict_by_rank_pattern</c>: pruned ranks are left out of the file (rows of A and E, columns of B).</summary>
    public override IReadOnlyList<KeyValuePair<string, Tensor>> PrepareSave(PeftConfig saved, string adapter, IReadOnlyList<KeyValuePair<string, Tensor>> tensors)
    {
        if (saved.Document["rank_pattern"] is not JsonObject pattern || pattern.Count == 0) return tensors;
        var kept = new Dictionary<string, bool[]>(StringComparer.Ordinal);
        var stripped = new JsonObject();
        foreach (var (key, value) in pattern)
        {
            var name = key.Replace($".{adapter}", "", StringComparison.Ordinal);
            var mask = (value as JsonArray ?? throw new AdapterConfigException($"{saved.Source}: rank_pattern.{key} must list booleans."))
                .Select(v => v?.GetValue<bool>() ?? throw new AdapterConfigException($"{saved.Source}: rank_pattern.{key} must list booleans.")).ToArray();
            kept[name[..^".lora_E".Length]] = mask;
            stripped[name] = new JsonArray(mask.Select(m => (JsonNode?)JsonValue.Create(m)).ToArray());
        }
        saved.Document["rank_pattern"] = stripped;
        var result = new List<KeyValuePair<string, Tensor>>(tensors.Count);
        foreach (var (key, tensor) in tensors)
        {
            var slot = key[(key.LastIndexOf('.') + 1)..];
            var path = key.StartsWith(PeftFiles.KeyPrefix, StringComparison.Ordinal) && key.LastIndexOf('.') > PeftFiles.KeyPrefix.Length
                ? key[PeftFiles.KeyPrefix.Length..key.LastIndexOf('.')] : null;
            if (path is null || slot is not ("lora_A" or "lora_E" or "lora_B") || !kept.TryGetValue(path, out var mask))
            {
                result.Add(new(key, tensor));
                continue;
            }
            var index = torch.tensor(mask.Select((m, i) => (m, (long)i)).Where(p => p.m).Select(p => p.Item2).ToArray());
            var dim = slot == "lora_B" ? 1 : 0;
            result.Add(new(key, tensor.shape[dim] == index.shape[0] ? tensor : tensor.index_select(dim, index)));
        }
        return result;
    }
}

/// <summary>PEFT 0.14's <c>adalora.SVDLinear</c>: <c>y = base(x) + x·(A ⊙ E)ᵀ·Bᵀ · scaling / (ranknum + 1e-5)</c>.</summary>
internal sealed class AdaLoraLayer(PeftBaseLayer baseLayer, PeftAdapterState state) : PeftTunerLayer(baseLayer, state)
{
    private readonly Dictionary<string, (double Scaling, double Dropout)> _settings = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override string PeftType => "ADALORA";

    /// <inheritdoc />
    protected override void Create(string adapter, PeftConfig config, string path, Device device, ScalarType dtype)
    {
        var initR = config.Int("init_r", 12);
        var r = initR;
        // A saved adapter lists the ranks the allocator kept per lora_E (names without the adapter); tensors are truncated to them.
        if (config.Document["rank_pattern"] is System.Text.Json.Nodes.JsonObject pattern && pattern[$"{path}.lora_E"] is System.Text.Json.Nodes.JsonArray kept)
            r = kept.Count(k => k is not null && k.GetValue<bool>());
        var alpha = config.Double("lora_alpha", 8);
        _settings[adapter] = (alpha > 0 ? alpha : r, config.Double("lora_dropout", 0));
        Slot("lora_A").Add(adapter, normal(0, 0.02, [r, Base.InFeatures], dtype, device));
        Slot("lora_E").Add(adapter, zeros([r, 1], dtype, device));
        Slot("lora_B").Add(adapter, normal(0, 0.02, [Base.OutFeatures, r], dtype, device));
        // ranknum is not saved and keeps the rank the adapter was created with, so the denominator stays init_r.
        Slot("ranknum", persistent: false, trainable: false).Add(adapter, full([1], (double)initR, dtype, device));
    }

    private Tensor Delta(string adapter)
    {
        var a = Slots[0][adapter];
        var e = Slots[1][adapter];
        var b = Slots[2][adapter];
        var ranknum = Slots[3][adapter];
        return b.matmul(a * e) * _settings[adapter].Scaling / (ranknum + 1e-5);
    }

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor baseOutput, IReadOnlyList<string> active)
    {
        var result = baseOutput;
        foreach (var adapter in active)
        {
            var a = Slots[0][adapter];
            var e = Slots[1][adapter];
            var b = Slots[2][adapter];
            var ranknum = Slots[3][adapter];
            var x = input.to(a.dtype);
            var p = _settings[adapter].Dropout;
            if (Base.Module.training && p > 0) x = nn.functional.dropout(x, p, true);
            result = result + x.matmul((a * e).t()).matmul(b.t()) * _settings[adapter].Scaling / (ranknum + 1e-5);
        }
        return result;
    }

    /// <inheritdoc />
    protected override void MergeInto(string adapter) => AddToWeight(Delta(adapter));

    /// <inheritdoc />
    protected override void UnmergeFrom(string adapter) => AddToWeight(Delta(adapter), -1);
}
