using Adapters.Core.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>PEFT 0.14's BOFT (<c>BOFT</c>): butterfly-factored orthogonal rotations of the input side of W, and a per-output scale.</summary>
internal sealed class BoftMethod : LinearOnlyMethod
{
    /// <inheritdoc />
    public override string PeftType => "BOFT";

    /// <inheritdoc />
    public override IReadOnlySet<string> KnownFields { get; } = PeftPatterns.Fields(
        "boft_block_size", "boft_block_num", "boft_n_butterfly_factor", "target_modules", "exclude_modules", "boft_dropout", "fan_in_fan_out",
        "bias", "modules_to_save", "init_weights", "layers_to_transform", "layers_pattern");

    /// <inheritdoc />
    public override void Validate(PeftConfig config)
    {
        var size = config.Int("boft_block_size", 4);
        var num = config.Int("boft_block_num", 0);
        if ((size == 0) == (num == 0))
            throw new AdapterConfigException($"{config.Source}: Either `boft_block_size` or `boft_block_num` must be non-zero. Currently, boft_block_size = {size} and boft_block_num = {num}.");
        // PEFT 0.14 silently runs with one butterfly factor wherever its fused CUDA kernel does not build (every
        // CPU-only machine), so its parameters then have a leading dimension of 1. This port does what PEFT does there;
        // a file trained with more factors on a GPU does not fit, exactly as it does not fit CPU PEFT.
        if (config.Int("boft_n_butterfly_factor", 1) != 1)
            config.Note($"{config.Source}: boft_n_butterfly_factor={config.Int("boft_n_butterfly_factor", 1)} runs as 1, as PEFT 0.14 does without its CUDA extension.");
        if (config.String("bias") is { } bias && bias != "none")
            throw new AdapterConfigException($"{config.Source}: bias=\"{bias}\" trains base-layer biases; this port's PEFT tuners keep the base model frozen.");
    }

    /// <inheritdoc />
    public override void PrepareLayer(PeftConfig config, PeftBaseLayer layer) => ForceFanInFanOut(config, layer);

    /// <inheritdoc />
    public override PeftTunerLayer CreateLayer(PeftBaseLayer layer, PeftAdapterState state) => new BoftLayer(layer, state);
}

/// <summary>PEFT 0.14's <c>boft.Linear</c> with one butterfly factor: <c>y = x·((R·Wᵀ)ᵀ ⊙ s)ᵀ + b</c>.</summary>
internal sealed class BoftLayer(PeftBaseLayer baseLayer, PeftAdapterState state) : PeftTunerLayer(baseLayer, state)
{
    private readonly Dictionary<string, double> _dropout = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override string PeftType => "BOFT";

    /// <inheritdoc />
    protected override void Create(string adapter, PeftConfig config, string path, Device device, ScalarType dtype)
    {
        var d = Base.InFeatures;
        long size = config.Int("boft_block_size", 4), num = config.Int("boft_block_num", 0);
        if (size != 0)
        {
            if (d % size != 0) throw Refuse(path, $"in_features ({d}) must be divisible by boft_block_size ({size})!");
            num = d / size;
        }
        else
        {
            if (d % num != 0) throw Refuse(path, $"in_features ({d}) must be divisible by boft_block_num ({num})!");
            size = d / num;
        }
        _dropout[adapter] = config.Double("boft_dropout", 0);
        var init = config.BoolOrString("init_weights", true) != "false";
        long[] rShape = [1, num, size, size];
        Slot("boft_R").Add(adapter, init ? zeros(rShape, dtype, device) : normal(0, 0.1, rShape, dtype, device));
        Slot("boft_s").Add(adapter, init ? ones([Base.OutFeatures, 1], dtype, device) : normal(1, 0.1, [Base.OutFeatures, 1], dtype, device));
    }

    // forward: the training forward pass, where boft_dropout acts (merges use the whole rotation).
    private (Tensor Rotation, Tensor Scale) Transform(IEnumerable<string> adapters, bool forward = false)
    {
        Tensor? rotation = null;
        Tensor? scale = null;
        foreach (var adapter in adapters)
        {
            var r = Slots[0][adapter];
            var q = Orthogonal.Cayley(r.view(-1, r.shape[2], r.shape[3]));
            // One butterfly factor here (N = 1), so PEFT's random pick among the factors always takes this one.
            if (forward && Base.Module.training && _dropout[adapter] > 0) q = Orthogonal.MultiplicativeDropout(q, _dropout[adapter]);
            var butterfly = Orthogonal.BlockDiagonal(q);
            rotation = rotation is null ? butterfly : butterfly.matmul(rotation);
            var s = Slots[1][adapter];
            scale = scale is null ? s : s * scale;
        }
        return (rotation!, scale!);
    }

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor baseOutput, IReadOnlyList<string> active)
    {
        var (rotation, scale) = Transform(active, forward: true);
        var weight = Orthogonal.Rotate(Base.OutInWeight.detach(), rotation, scale);
        return Base.Linear(input.to(weight.dtype), weight).to(input.dtype);
    }

    /// <inheritdoc />
    protected override void MergeInto(string adapter)
    {
        var (rotation, scale) = Transform([adapter]);
        SetWeight(Orthogonal.Rotate(Base.OutInWeight, rotation, scale));
    }

    /// <inheritdoc />
    protected override void UnmergeFrom(string adapter)
    {
        var (rotation, scale) = Transform([adapter]);
        SetWeight(Orthogonal.Rotate(Base.OutInWeight, rotation.t(), 1 / scale));
    }
}
