using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>PEFT's LoKr (<c>LOKR</c>): a Kronecker product <c>ΔW = w1 ⊗ w2 · alpha/r</c>, each factor full or low-rank.</summary>
internal sealed class LoKrMethod : LinearOnlyMethod
{
    /// <inheritdoc />
    public override string PeftType => "LOKR";

    /// <inheritdoc />
    public override IReadOnlySet<string> KnownFields { get; } = PeftPatterns.Fields(
        "r", "alpha", "rank_dropout", "module_dropout", "use_effective_conv2d", "decompose_both", "decompose_factor", "rank_dropout_scale",
        "target_modules", "exclude_modules", "init_weights", "layers_to_transform", "layers_pattern", "modules_to_save", "rank_pattern", "alpha_pattern");

    /// <inheritdoc />
    public override PeftModuleSelector? DefaultTargets(string? modelType) => null;

    /// <inheritdoc />
    public override PeftTunerLayer CreateLayer(PeftBaseLayer layer, PeftAdapterState state) => new LoKrLayer(layer, state);

    /// <summary>PEFT's <c>factorization</c>: two factors of <paramref name="dimension"/> near <paramref name="factor"/> (√dimension for −1), smaller first.</summary>
    public static (long M, long N) Factorization(long dimension, long factor = -1)
    {
        if (factor > 0 && dimension % factor == 0)
        {
            var (fm, fn) = (factor, dimension / factor);
            return fm > fn ? (fn, fm) : (fm, fn);
        }
        if (factor < 0) factor = dimension;
        long m = 1, n = dimension, length = m + n;
        while (m < n)
        {
            var newM = m + 1;
            while (dimension % newM != 0) newM++;
            var newN = dimension / newM;
            if (newM + newN > length || newM > factor) break;
            (m, n) = (newM, newN);
        }
        return m > n ? (n, m) : (m, n);
    }
}

/// <summary>PEFT 0.14's <c>lokr.Linear</c>.</summary>
internal sealed class LoKrLayer(PeftBaseLayer baseLayer, PeftAdapterState state) : LycorisLayer(baseLayer, state)
{
    /// <inheritdoc />
    public override string PeftType => "LOKR";

    /// <inheritdoc />
    protected override void Create(string adapter, PeftConfig config, string path, Device device, ScalarType dtype)
    {
        var (r, alpha) = PeftPatterns.LycorisRankAndAlpha(config, path);
        SetScaling(adapter, alpha / r, config, scaleRankDropout: config.Bool("rank_dropout_scale", false));
        var factor = config.Int("decompose_factor", -1);
        var (outL, outK) = LoKrMethod.Factorization(Base.OutFeatures, factor);
        var (inM, inN) = LoKrMethod.Factorization(Base.InFeatures, factor);
        var useW1 = !(config.Bool("decompose_both", false) && r < Math.Max(outL, inM) / 2.0);
        var useW2 = !(r < Math.Max(outK, inN) / 2.0);
        var init = config.BoolOrString("init_weights", true);
        // true: w1 zero (the delta starts at 0); "lycoris": w2 zero; false: all random.
        Tensor Make(long[] shape, bool zero) => zero ? zeros(shape, dtype, device) : KaimingUniform(shape, device, dtype);
        var w1Zero = init == "true";
        var w2Zero = init == "lycoris";
        if (useW1) Slot("lokr_w1").Add(adapter, Make([outL, inM], w1Zero));
        else
        {
            Slot("lokr_w1_a").Add(adapter, Make([outL, r], w1Zero));
            Slot("lokr_w1_b").Add(adapter, Make([r, inM], false));
        }
        if (useW2) Slot("lokr_w2").Add(adapter, Make([outK, inN], w2Zero));
        else
        {
            Slot("lokr_w2_a").Add(adapter, Make([outK, r], false));
            Slot("lokr_w2_b").Add(adapter, Make([r, inN], w2Zero));
        }
    }

    private Tensor Factor(string adapter, string name) =>
        Slots.Any(s => s.Name == $"lokr_{name}" && s.Has(adapter))
            ? Get($"lokr_{name}", adapter)
            : Get($"lokr_{name}_a", adapter).matmul(Get($"lokr_{name}_b", adapter));

    /// <inheritdoc />
    protected override Tensor Delta(string adapter)
    {
        var w1 = Factor(adapter, "w1");
        var w2 = Factor(adapter, "w2");
        var kron = (w1.unsqueeze(1).unsqueeze(3) * w2.unsqueeze(0).unsqueeze(2)).reshape(w1.shape[0] * w2.shape[0], w1.shape[1] * w2.shape[1]);
        return kron * Scaling(adapter);
    }
}
