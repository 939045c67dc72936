using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// LoRA (and DoRA with <c>use_dora</c>): <c>δ = dropout(x)·Aᵀ·Bᵀ·alpha/r</c> with <c>lora_A</c> (r, in) and
/// <c>lora_B</c> (out, r) as plain parameters. Init "lora": A kaiming_uniform(a=√5), B zeros; "bert": both N(0, 0.02);
/// "ia3": ones; "vera": kaiming_uniform(a=0).
/// </summary>
public sealed class LoRAModule : LoRALayer
{
    // Named after the registered parameter, so that Module.to(dtype/device) stores the converted tensor here too.
    [ComponentName(Name = "lora_A")]
    private Parameter _a;
    [ComponentName(Name = "lora_B")]
    private Parameter _b;

    /// <summary>Creates the module for a linear layer with weight <paramref name="baseWeight"/>.</summary>
    public LoRAModule(LoRAConfig config, long inFeatures, long outFeatures, Tensor baseWeight, Device? device, ScalarType? dtype)
        : base(nameof(LoRAModule), config, inFeatures, outFeatures, baseWeight, device, dtype)
    {
        if (config.R <= 0) throw new AdapterConfigException($"LoRA r must be positive, got {config.R}.");
        _a = new Parameter(zeros([config.R, inFeatures], dtype, device));
        _b = new Parameter(zeros([outFeatures, config.R], dtype, device));
        using (no_grad()) LoRAInit.LowRank(_a, _b, config.InitWeights, allowVera: true, "LoRA");
        register_parameter("lora_A", _a);
        register_parameter("lora_B", _b);
        RegisterCommon();
    }

    /// <inheritdoc />
    public override Tensor Contribution(Tensor? previous, Tensor layerInput)
    {
        ArgumentNullException.ThrowIfNull(layerInput);
        var x = InputDropout(previous ?? layerInput);
        var projected = matmul(x, _a.t());
        // Scaling the small (out, r) factor instead of the (…, out) product saves a full-size temporary per call,
        // which is most of LoRA's cost on CPU.
        if (!IsGated) return matmul(projected, (_b * Scale).t());
        return ScaleOrGate(matmul(projected, _b.t()), layerInput);
    }

    /// <inheritdoc />
    protected override Tensor UnscaledDelta() => matmul(_b, _a);
}
