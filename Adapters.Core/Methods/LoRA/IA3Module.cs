using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// IA³ (<c>composition_mode="scale"</c>): only <c>lora_B</c> of shape (out, 1); the layer output — bias included —
/// is multiplied by <c>lora_B·alpha</c> (or by the gate). Merging scales the weight rows but not the bias, as Python does.
/// </summary>
public sealed class IA3Module : LoRALayer
{
    // Named after the registered parameter, so that Module.to(dtype/device) stores the converted tensor here too.
    [ComponentName(Name = "lora_B")]
    private Parameter _b;

    /// <summary>Creates the module for a linear layer with weight <paramref name="baseWeight"/>.</summary>
    /// <exception cref="AdapterConfigException">r is not 1, or dropout or DoRA is requested (Python rejects them).</exception>
    public IA3Module(LoRAConfig config, long inFeatures, long outFeatures, Tensor baseWeight, Device? device, ScalarType? dtype)
        : base(nameof(IA3Module), config, inFeatures, outFeatures, baseWeight, device, dtype)
    {
        if (config.R != 1) throw new AdapterConfigException($"composition_mode \"scale\" needs r=1, got r={config.R}.");
        if (config.Dropout > 0) throw new AdapterConfigException("composition_mode \"scale\" does not support dropout.");
        if (config.UseDora) throw new AdapterConfigException("composition_mode \"scale\" does not support use_dora.");
        _b = new Parameter(zeros([outFeatures, 1], dtype, device));
        using (no_grad()) LoRAInit.Scale(_b, config.InitWeights);
        register_parameter("lora_B", _b);
        RegisterCommon();
    }

    /// <inheritdoc />
    protected override double Scale => Config.Alpha;

    /// <inheritdoc />
    public override Tensor Contribution(Tensor? previous, Tensor layerInput)
    {
        ArgumentNullException.ThrowIfNull(layerInput);
        var vector = _b.reshape(-1);
        var scaled = IsGated ? vector * GateValue(layerInput) : vector * Scale;
        return previous is null ? scaled : previous * scaled;
    }

    /// <inheritdoc />
    public override Tensor Combine(Tensor layerOutput, Tensor contribution, Tensor weight) => layerOutput * contribution;

    /// <inheritdoc />
    public override Tensor MergedWeight(Tensor weight) => weight * (_b * Scale);

    /// <inheritdoc />
    protected override Tensor UnscaledDelta() => throw new InvalidOperationException("IA3 has no additive weight update.");
}
