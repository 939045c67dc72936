using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// VeRA: frozen shared <c>lora_A</c> (r, in) and <c>lora_B</c> (out, r) from the adapter's
/// <see cref="SharedParameters"/>, and trainable <c>vera_D = diag(d)</c> (r×r) and <c>vera_B = diag(b)</c> (out×out)
/// stored as full square matrices, as Python does: <c>δ = x·(Λb·B·Λd·A)ᵀ·alpha/r</c>.
/// </summary>
public sealed class VeraModule : LoRALayer
{
    // Named after the registered parameter, so that Module.to(dtype/device) stores the converted tensor here too.
    [ComponentName(Name = "vera_D")]
    private Parameter _d;
    [ComponentName(Name = "vera_B")]
    private Parameter _scaleB;
    private readonly SharedParameters _shared;

    /// <summary>Creates the module; the shared matrices must already exist.</summary>
    public VeraModule(LoRAConfig config, long inFeatures, long outFeatures, Tensor baseWeight, SharedParameters shared, Device? device, ScalarType? dtype)
        : base(nameof(VeraModule), config, inFeatures, outFeatures, baseWeight, device, dtype)
    {
        _shared = shared ?? throw new ArgumentNullException(nameof(shared));
        var a = shared.Get("lora_A")!;
        var b = shared.Get("lora_B")!;
        if (a.shape[1] != inFeatures || b.shape[0] != outFeatures)
            throw new AdapterConfigException(
                $"VeRA shares one A ({a.shape[0]}×{a.shape[1]}) and B ({b.shape[0]}×{b.shape[1]}) across layers, which does not fit a {outFeatures}×{inFeatures} layer; VeRA needs every adapted layer to have the same shape.");
        _d = new Parameter(diag(ones([config.R], dtype, device) * (config.VeraD ?? 0.1)));
        _scaleB = new Parameter(diag(ones([outFeatures], dtype, device) * (config.VeraB ?? 0.0)));
        register_parameter("vera_D", _d);
        register_parameter("vera_B", _scaleB);
        RegisterCommon();
    }

    /// <summary>Creates the frozen shared A and B (kaiming_uniform with a=0) sized from the first adapted layer.</summary>
    public static void CreateShared(SharedParameters shared, LoRAConfig config, long inFeatures, long outFeatures, Device? device, ScalarType? dtype)
    {
        ArgumentNullException.ThrowIfNull(shared);
        ArgumentNullException.ThrowIfNull(config);
        using var _ = no_grad();
        var a = empty([config.R, inFeatures], dtype, device);
        var b = empty([outFeatures, config.R], dtype, device);
        nn.init.kaiming_uniform_(a);
        nn.init.kaiming_uniform_(b);
        shared.Add("lora_A", a, requiresGrad: false);
        shared.Add("lora_B", b, requiresGrad: false);
    }

    /// <inheritdoc />
    public override Tensor Contribution(Tensor? previous, Tensor layerInput)
    {
        ArgumentNullException.ThrowIfNull(layerInput);
        var x = InputDropout(previous ?? layerInput);
        return ScaleOrGate(matmul(x, UnscaledDelta().t()), layerInput);
    }

    /// <inheritdoc />
    protected override Tensor UnscaledDelta() =>
        matmul(matmul(matmul(_scaleB, _shared.Get("lora_B")!), _d), _shared.Get("lora_A")!);
}
