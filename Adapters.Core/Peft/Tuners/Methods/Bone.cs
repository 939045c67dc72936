using Adapters.Core.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>
/// PEFT 0.14's Bone (<c>BONE</c>; renamed MiSS, <c>MISS</c>, in PEFT ≥ 0.17 with <c>miss_</c> keys): a block shared
/// across the input chunks, <c>y = base(x) + (Σⱼ xⱼ)·bone</c>.
/// </summary>
internal class BoneMethod : LinearOnlyMethod
{
    /// <inheritdoc />
    public override string PeftType => "BONE";

    /// <summary>PEFT 0.14's Bone adapts <c>nn.Linear</c> only.</summary>
    public override string SupportedText => "`torch.nn.Linear`";

    /// <summary>Bone refuses Conv2d in PEFT too, with PEFT's message.</summary>
    public override IReadOnlySet<PeftLayerKind> UnportedKinds { get; } = new HashSet<PeftLayerKind>();

    /// <summary>The tensor name prefix ("bone" or "miss").</summary>
    protected virtual string Prefix => "bone";

    /// <inheritdoc />
    public override IReadOnlySet<string> KnownFields { get; } = PeftPatterns.Fields(
        "r", "target_modules", "exclude_modules", "init_weights", "layers_to_transform", "layers_pattern", "bias", "modules_to_save",
        "miss_dropout", "mini_r");

    /// <inheritdoc />
    public override void Validate(PeftConfig config)
    {
        var init = config.BoolOrString("init_weights", true);
        if (init is not ("true" or "false"))
            throw new AdapterConfigException($"{config.Source}: init_weights=\"{init}\" ({PeftType}'s block-affine variants) is not supported by this port yet.");
        if (config.Double("miss_dropout", 0) > 0)
            throw new AdapterConfigException($"{config.Source}: miss_dropout is not supported by this port yet.");
        if (config.String("bias") is { } bias && bias != "none")
            throw new AdapterConfigException($"{config.Source}: bias=\"{bias}\" trains base-layer biases; this port's PEFT tuners keep the base model frozen.");
    }

    /// <inheritdoc />
    public override PeftTunerLayer CreateLayer(PeftBaseLayer layer, PeftAdapterState state) => new BoneLayer(layer, state, PeftType, Prefix);
}

/// <summary>MiSS (<c>MISS</c>), PEFT ≥ 0.17's name for Bone, read with its <c>miss_block</c> keys.</summary>
internal sealed class MissMethod : BoneMethod
{
    /// <inheritdoc />
    public override string PeftType => "MISS";

    /// <inheritdoc />
    protected override string Prefix => "miss";
}

/// <summary>PEFT 0.14's <c>bone.Linear</c> (default init).</summary>
internal sealed class BoneLayer(PeftBaseLayer baseLayer, PeftAdapterState state, string peftType, string prefix) : PeftTunerLayer(baseLayer, state)
{
    /// <inheritdoc />
    public override string PeftType => peftType;

    /// <inheritdoc />
    protected override void Create(string adapter, PeftConfig config, string path, Device device, ScalarType dtype)
    {
        var r = config.Int("r", 64);
        var init = config.BoolOrString("init_weights", true) != "false";
        Slot($"{prefix}_block").Add(adapter, init ? zeros([r, Base.OutFeatures], dtype, device) : KaimingUniform([r, Base.OutFeatures], device, dtype));
    }

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor baseOutput, IReadOnlyList<string> active)
    {
        var result = baseOutput;
        foreach (var adapter in active)
        {
            var bone = Slots[0][adapter];
            var r = bone.shape[0];
            var x = input.to(bone.dtype);
            var size = x.shape[^1];
            if (size % r != 0) x = nn.functional.pad(x, [0, (r - size % r) % r]);
            var chunks = x.reshape([.. x.shape[..^1], x.shape[^1] / r, r]).sum(-2);
            result = result + chunks.matmul(bone);
        }
        return result.to(baseOutput.dtype);
    }

    private void Apply(string adapter, double sign)
    {
        var boneT = Slots[0][adapter].t();
        var r = boneT.shape[1];
        var weight = Base.OutInWeight.clone();
        for (long start = 0; start < Base.InFeatures; start += r)
        {
            var end = Math.Min(start + r, Base.InFeatures);
            weight.narrow(1, start, end - start).add_(boneT.narrow(1, 0, end - start), alpha: sign);
        }
        SetWeight(weight);
    }

    /// <inheritdoc />
    protected override void MergeInto(string adapter) => Apply(adapter, 1);

    /// <inheritdoc />
    protected override void UnmergeFrom(string adapter) => Apply(adapter, -1);
}
