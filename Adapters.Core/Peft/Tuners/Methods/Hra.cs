using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>PEFT 0.14's HRA (<c>HRA</c>): W multiplied on its input side by a product of Householder reflections.</summary>
internal sealed class HraMethod : LinearOnlyMethod
{
    /// <inheritdoc />
    public override string PeftType => "HRA";

    /// <inheritdoc />
    public override IReadOnlySet<string> KnownFields { get; } = PeftPatterns.Fields(
        "r", "apply_GS", "target_modules", "exclude_modules", "init_weights", "layers_to_transform", "layers_pattern", "bias", "modules_to_save");

    /// <inheritdoc />
    public override void Validate(PeftConfig config)
    {
        if (config.String("bias") is { } bias && bias != "none")
            throw new Configuration.AdapterConfigException($"{config.Source}: bias=\"{bias}\" trains base-layer biases; this port's PEFT tuners keep the base model frozen.");
    }

    /// <inheritdoc />
    public override PeftTunerLayer CreateLayer(PeftBaseLayer layer, PeftAdapterState state) => new HraLayer(layer, state);
}

/// <summary>PEFT 0.14's <c>hra.HRALinear</c>: <c>y = x·(W·H)ᵀ + b</c>.</summary>
internal sealed class HraLayer(PeftBaseLayer baseLayer, PeftAdapterState state) : PeftTunerLayer(baseLayer, state)
{
    private readonly Dictionary<string, bool> _gramSchmidt = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override string PeftType => "HRA";

    /// <inheritdoc />
    protected override void Create(string adapter, PeftConfig config, string path, Device device, ScalarType dtype)
    {
        var r = config.Int("r", 8);
        _gramSchmidt[adapter] = config.Bool("apply_GS", false);
        Tensor u;
        if (config.BoolOrString("init_weights", true) != "false" && r % 2 == 0)
        {
            // Pairs of equal reflections cancel, so the adapter starts as the identity.
            u = KaimingUniform([Base.InFeatures, r / 2], device, dtype).repeat_interleave(2, dim: 1);
        }
        else
        {
            u = KaimingUniform([Base.InFeatures, r], device, dtype);
        }
        Slot("hra_u").Add(adapter, u);
    }

    private Tensor Householder(string adapter, bool reverse)
    {
        var u = Slots[0][adapter];
        var n = u.shape[0];
        var eye = torch.eye(n, dtype: u.dtype, device: u.device);
        if (_gramSchmidt[adapter])
        {
            var columns = new List<Tensor>();
            for (var i = 0; i < u.shape[1]; i++)
            {
                var ui = u[.., i].view(-1, 1);
                foreach (var q in columns) ui = ui - q.t().matmul(ui) * q;
                columns.Add(ui / ui.norm());
            }
            var qm = cat(columns, 1);
            return eye - 2 * qm.matmul(qm.t());
        }
        var normed = u / u.norm(0, keepdim: true);
        var weight = eye;
        var order = Enumerable.Range(0, (int)u.shape[1]);
        if (reverse) order = order.Reverse();
        foreach (var i in order)
        {
            var ui = normed[.., i].view(-1, 1);
            weight = weight.matmul(eye - 2 * ui.matmul(ui.t()));
        }
        return weight;
    }

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor baseOutput, IReadOnlyList<string> active)
    {
        Tensor h = Householder(active[0], false);
        foreach (var adapter in active.Skip(1)) h = h.matmul(Householder(adapter, false));
        var weight = Base.OutInWeight.detach().matmul(h);
        return Base.Linear(input.to(weight.dtype), weight).to(input.dtype);
    }

    /// <inheritdoc />
    protected override void MergeInto(string adapter) => SetWeight(Base.OutInWeight.matmul(Householder(adapter, false)));

    /// <inheritdoc />
    protected override void UnmergeFrom(string adapter) => SetWeight(Base.OutInWeight.matmul(Householder(adapter, true)));
}
