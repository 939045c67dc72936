using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>PEFT's LoHa (<c>LOHA</c>): a Hadamard product of two low-rank products, <c>ΔW = (w1a·w1b) ⊙ (w2a·w2b)·alpha/r</c>.</summary>
internal sealed class LoHaMethod : LinearOnlyMethod
{
    /// <inheritdoc />
    public override string PeftType => "LOHA";

    /// <inheritdoc />
    public override IReadOnlySet<string> KnownFields { get; } = PeftPatterns.Fields(
        "r", "alpha", "rank_dropout", "module_dropout", "use_effective_conv2d", "target_modules", "exclude_modules", "init_weights",
        "layers_to_transform", "layers_pattern", "modules_to_save", "rank_pattern", "alpha_pattern");

    /// <inheritdoc />
    public override PeftModuleSelector? DefaultTargets(string? modelType) => null;

    /// <inheritdoc />
    public override PeftTunerLayer CreateLayer(PeftBaseLayer layer, PeftAdapterState state) => new LoHaLayer(layer, state);
}

/// <summary>PEFT 0.14's <c>loha.Linear</c>: <c>y = base(x) + x·ΔWᵀ</c>.</summary>
internal sealed class LoHaLayer(PeftBaseLayer baseLayer, PeftAdapterState state) : LycorisLayer(baseLayer, state)
{
    /// <inheritdoc />
    public override string PeftType => "LOHA";

    /// <inheritdoc />
    protected override void Create(string adapter, PeftConfig config, string path, Device device, ScalarType dtype)
    {
        var (r, alpha) = PeftPatterns.LycorisRankAndAlpha(config, path);
        SetScaling(adapter, alpha / r, config, scaleRankDropout: true);
        var init = config.BoolOrString("init_weights", true) != "false";
        Slot("hada_w1_a").Add(adapter, KaimingUniform([Base.OutFeatures, r], device, dtype));
        Slot("hada_w1_b").Add(adapter, KaimingUniform([r, Base.InFeatures], device, dtype));
        Slot("hada_w2_a").Add(adapter, KaimingUniform([Base.OutFeatures, r], device, dtype));
        Slot("hada_w2_b").Add(adapter, init ? zeros([r, Base.InFeatures], dtype, device) : KaimingUniform([r, Base.InFeatures], device, dtype));
    }

    /// <inheritdoc />
    protected override Tensor Delta(string adapter) =>
        Get("hada_w1_a", adapter).matmul(Get("hada_w1_b", adapter)) * Get("hada_w2_a", adapter).matmul(Get("hada_w2_b", adapter)) * Scaling(adapter);
}
