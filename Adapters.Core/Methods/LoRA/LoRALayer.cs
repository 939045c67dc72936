using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// The common shape of the LoRA family at one wrapped linear layer (<see cref="LoRAModule"/>, <see cref="IA3Module"/>,
/// <see cref="VeraModule"/>, and <see cref="FusedQkvLoRA"/> on a fused q/k/v projection): a contribution computed from
/// the layer input, a rule to combine it with the frozen output, and a weight update for merging.
/// </summary>
public abstract class LoRALayer : nn.Module
{
    private readonly Linear? _gate;
    private readonly Linear? _magnitude;

    /// <summary>
    /// Creates the shared parts: optional gate <c>Linear(in, gateHeads)</c> (one head, or one per part of a fused
    /// projection) and, for DoRA, the magnitude <c>m</c> from <paramref name="baseWeight"/>.
    /// </summary>
    protected LoRALayer(string name, LoRAConfig config, long inFeatures, long outFeatures, Tensor? baseWeight, Device? device, ScalarType? dtype, int gateHeads = 1)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        if (config.UseGating)
        {
            _gate = nn.Linear(inFeatures, gateHeads, true, device, dtype);
            using (no_grad()) nn.init.normal_(_gate.weight, 0.0, 0.02);
        }
        if (config.UseDora)
        {
            ArgumentNullException.ThrowIfNull(baseWeight);
            _magnitude = nn.Linear(1, outFeatures, false, device, dtype);
            using (no_grad()) _magnitude.weight.copy_(baseWeight.detach().norm(1, keepdim: true));
        }
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The config this module was built from.</summary>
    public LoRAConfig Config { get; }

    /// <summary>Input width of the wrapped layer.</summary>
    public long InFeatures { get; }

    /// <summary>Output width of the wrapped layer.</summary>
    public long OutFeatures { get; }

    /// <summary>
    /// The gate values this module applies for <paramref name="layerInput"/>, as gating scores report them; null when
    /// not gated. Sites compute them again only when the pass asked for gating scores, so the forward keeps no state.
    /// </summary>
    internal virtual Tensor? ReportedGate(Tensor layerInput) => _gate is null ? null : GateValue(layerInput);

    /// <summary>Whether the module is gated (UniPELT's <c>use_gating</c>), i.e. has gate values to report.</summary>
    internal bool HasGate => _gate is not null;

    /// <summary>Whether the weight can absorb this module (gated modules cannot).</summary>
    public bool CanMerge => _gate is null;

    /// <summary>Registers the gate and magnitude after the subclass's own parameters, matching Python's module order.</summary>
    protected void RegisterCommon()
    {
        if (_gate is not null) register_module("gate", _gate);
        if (_magnitude is not null) register_module("m", _magnitude);
    }

    /// <summary>
    /// Python's <c>forward(hidden_states, layer_input)</c>: the contribution for this module, chained on the previous
    /// module's contribution <paramref name="previous"/> in a stack (null for the first).
    /// </summary>
    public abstract Tensor Contribution(Tensor? previous, Tensor layerInput);

    /// <summary>Whether <see cref="Combine"/> reads its weight argument (DoRA does), so a 4-bit layer dequantizes it only then.</summary>
    internal virtual bool CombineReadsWeight => _magnitude is not null;

    /// <summary>
    /// Python's <c>com</c>: combines the frozen layer output with the final contribution. <paramref name="layerOutput"/>
    /// is the wrapped layer's own fresh output, so it may be updated in place (saving a full-size temporary).
    /// </summary>
    public virtual Tensor Combine(Tensor layerOutput, Tensor contribution, Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(layerOutput);
        var inPlace = !(layerOutput.is_leaf && layerOutput.requires_grad) && layerOutput.shape.SequenceEqual(broadcast_shapes(layerOutput.shape, contribution.shape));
        var combined = inPlace ? layerOutput.add_(contribution) : layerOutput + contribution;
        if (_magnitude is null) return combined;
        // DoRA: (m / ‖W + ΔW‖_row) ⊙ (Wx + b + δ), with the unscaled ΔW and the bias inside the rescale.
        var norm = (weight + UnscaledDelta()).norm(1);
        return combined * (_magnitude.weight.reshape(-1) / norm);
    }

    /// <summary>The weight the layer has after merging this module into <paramref name="weight"/>.</summary>
    public virtual Tensor MergedWeight(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (_magnitude is null) return weight + UnscaledDelta() * Scale;
        var updated = weight + UnscaledDelta();
        return _magnitude.weight * updated / updated.norm(1, keepdim: true);
    }

    /// <summary>The weight change before scaling, shape (out, in).</summary>
    protected abstract Tensor UnscaledDelta();

    /// <summary>alpha / r, the factor on the contribution when not gated (or <see cref="ScalingOverride"/>).</summary>
    protected virtual double Scale => ScalingOverride ?? (double)Config.Alpha / Config.R;

    /// <summary>
    /// A scale that replaces alpha / r, for scales an integer alpha cannot express (PEFT's rsLoRA alpha/√r or a
    /// fractional <c>lora_alpha</c>); null keeps alpha / r.
    /// </summary>
    public double? ScalingOverride { get; init; }

    /// <summary>The factor this module applies when not gated (alpha / r for LoRA, alpha for IA³).</summary>
    public double Scaling => Scale;

    /// <summary>Applies the gate (mean over the sequence of sigmoid(gate(x))) or the fixed scale.</summary>
    protected Tensor ScaleOrGate(Tensor delta, Tensor layerInput)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (_gate is null) return delta * Scale;
        return delta * GateValue(layerInput);
    }

    /// <summary>The gate value of shape (B, 1, 1), or null when not gated.</summary>
    protected Tensor GateValue(Tensor layerInput)
    {
        var gate = torch.sigmoid(_gate!.call(layerInput));
        gate = layerInput.dim() == 3 ? gate.mean([1]).unsqueeze(-1) : gate;
        return gate;
    }

    /// <summary>The gate's per-head values averaged over the sequence (B, heads), without reshaping; null when not gated.</summary>
    protected Tensor? GateHeads(Tensor layerInput)
    {
        if (_gate is null) return null;
        var gate = torch.sigmoid(_gate.call(layerInput));
        gate = layerInput.dim() == 3 ? gate.mean([1]) : gate;
        return gate;
    }

    /// <summary>Whether a gate is configured.</summary>
    protected bool IsGated => _gate is not null;

    /// <summary>Dropout on the input as configured.</summary>
    protected Tensor InputDropout(Tensor x) => Config.Dropout > 0 ? nn.functional.dropout(x, Config.Dropout, training) : x;
}
