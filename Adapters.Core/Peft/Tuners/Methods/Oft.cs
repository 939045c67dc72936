using Adapters.Core.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>PEFT 0.14's OFT (<c>OFT</c>): a block-diagonal orthogonal rotation of the input side of W, and a per-output scale.</summary>
internal sealed class OftMethod : LinearOnlyMethod
{
    /// <inheritdoc />
    public override string PeftType => "OFT";

    /// <inheritdoc />
    public override IReadOnlySet<string> KnownFields { get; } = PeftPatterns.Fields(
        "r", "oft_block_size", "module_dropout", "target_modules", "fan_in_fan_out", "bias", "exclude_modules", "init_weights",
        "layers_to_transform", "layers_pattern", "modules_to_save", "coft", "eps", "block_share", "rank_pattern", "alpha_pattern");

    /// <inheritdoc />
    public override void Validate(PeftConfig config)
    {
        if (config.Document["oft_block_size"] is null)
            throw new AdapterConfigException($"{config.Source}: OFT configuration has been updated since PEFT 0.14.0. Your trained adapter weights are incompatible with the latest version of OFT. Please retrain your adapter weights with newer PEFT versions. Alternatively, downgrade PEFT to version 0.13.0 to use the old adapter weights.");
        if (config.Document["use_cayley_neumann"] is not null || config.Document["num_cayley_neumann_terms"] is not null)
            throw new AdapterConfigException($"{config.Source}: this is an OFT v2 config (PEFT ≥ 0.16: oft_R.weight, Cayley–Neumann); PEFT 0.14's OFT, which this port implements, cannot read it.");
        var r = config.Int("r", 8);
        var b = config.Int("oft_block_size", 0);
        if ((r == 0) == (b == 0))
            throw new AdapterConfigException($"{config.Source}: You can only specify either r ({r}) or oft_block_size ({b}), but not both simultaneously, because r x oft_block_size == in_features.");
        if (config.String("bias") is { } bias && bias != "none")
            throw new AdapterConfigException($"{config.Source}: bias=\"{bias}\" trains base-layer biases; this port's PEFT tuners keep the base model frozen.");
    }

    /// <inheritdoc />
    public override void PrepareLayer(PeftConfig config, PeftBaseLayer layer) => ForceFanInFanOut(config, layer);

    /// <inheritdoc />
    public override PeftTunerLayer CreateLayer(PeftBaseLayer layer, PeftAdapterState state) => new OftLayer(layer, state);

    /// <summary>PEFT's <c>adjust_oft_parameters</c>: the divisor of <paramref name="dimension"/> nearest <paramref name="value"/> (lower on a tie).</summary>
    public static long NearestDivisor(long dimension, long value)
    {
        if (dimension % value == 0) return value;
        if (value >= dimension) return dimension;
        var higher = value + 1;
        while (higher < dimension && dimension % higher != 0) higher++;
        var lower = value - 1;
        while (lower > 1 && dimension % lower != 0) lower--;
        return Math.Abs(higher - value) < Math.Abs(lower - value) ? higher : lower;
    }
}

/// <summary>PEFT 0.14's <c>oft.Linear</c>: <c>y = x·((R·Wᵀ)ᵀ ⊙ s)ᵀ + b</c> with R the block-diagonal Cayley rotation.</summary>
internal sealed class OftLayer(PeftBaseLayer baseLayer, PeftAdapterState state) : PeftTunerLayer(baseLayer, state)
{
    private readonly Dictionary<string, (long Blocks, bool Share, bool Coft, double Eps, double Dropout)> _settings = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override string PeftType => "OFT";

    /// <inheritdoc />
    protected override void Create(string adapter, PeftConfig config, string path, Device device, ScalarType dtype)
    {
        var d = Base.InFeatures;
        long r = config.Int("r", 8), b = config.Int("oft_block_size", 0);
        if (b != 0)
        {
            b = OftMethod.NearestDivisor(d, b);
            r = d / b;
        }
        else
        {
            r = OftMethod.NearestDivisor(d, r);
            b = d / r;
        }
        var share = config.Bool("block_share", false);
        var eps = config.Double("eps", 6e-5) * Math.Pow(Math.Ceiling(Base.OutFeatures / (double)r), 2);
        _settings[adapter] = (r, share, config.Bool("coft", false), eps, config.Double("module_dropout", 0));
        var init = config.BoolOrString("init_weights", true) != "false";
        long[] rShape = [share ? 1 : r, b, b];
        Slot("oft_r").Add(adapter, init ? zeros(rShape, dtype, device) : normal(0, 0.1, rShape, dtype, device));
        Slot("oft_s").Add(adapter, init ? ones([Base.OutFeatures, 1], dtype, device) : normal(1, 0.1, [Base.OutFeatures, 1], dtype, device));
    }

    // forward: the training forward pass, where module_dropout acts (merges use the whole rotation).
    private (Tensor Rotation, Tensor Scale) Transform(IEnumerable<string> adapters, bool forward = false)
    {
        Tensor? rotation = null;
        Tensor? scale = null;
        foreach (var adapter in adapters)
        {
            var (blocks, share, coft, eps, dropout) = _settings[adapter];
            var r = Slots[0][adapter];
            if (coft)
            {
                using var _ = no_grad();
                var bound = eps / Math.Sqrt(r.shape[0]);
                var norms = linalg.norm(r.flatten(1), dims: [1]).view(-1, 1, 1);
                r.copy_(where(norms > bound, r * (bound / norms), r));
            }
            var q = Orthogonal.Cayley(r);
            if (forward && Base.Module.training && dropout > 0) q = Orthogonal.MultiplicativeDropout(q, dropout);
            if (share) q = q.repeat(blocks, 1, 1);
            var blockDiagonal = Orthogonal.BlockDiagonal(q);
            rotation = rotation is null ? blockDiagonal : blockDiagonal.matmul(rotation);
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
        return Base.Linear(input.to(weight.dtype), weight.to(input.dtype)).to(input.dtype);
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
