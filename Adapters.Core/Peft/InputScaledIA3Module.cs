using Adapters.Core.Configuration;
using Adapters.Core.Methods.LoRA;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Adapters.Core.Peft;

/// <summary>
/// PEFT's feed-forward IA³ (a module listed in <c>feedforward_modules</c>): the vector <c>ia3_l</c> of shape (1, in)
/// scales the layer <em>input</em>, <c>y = W(x ⊙ l) + b</c>, so the bias is not scaled. Python adapters has no such
/// module (its IA³ always scales the output), so adapters that contain it can be saved in PEFT's format only.
/// </summary>
public sealed class InputScaledIA3Module : LoRALayer
{
    // Named after the registered parameter, so that Module.to(dtype/device) stores the converted tensor here too.
    [ComponentName(Name = "ia3_l")]
    private Parameter _vector;
    // Read on every forward: Module.to(dtype/device) replaces the layer's bias tensor.
    private readonly Func<Tensor?> _bias;

    /// <summary>
    /// Creates the module for a layer of width <paramref name="inFeatures"/> whose current bias <paramref name="bias"/>
    /// returns (null without bias); the vector starts at ones.
    /// </summary>
    public InputScaledIA3Module(LoRAConfig config, long inFeatures, long outFeatures, Tensor baseWeight, Func<Tensor?> bias, Device? device, ScalarType? dtype)
        : base(nameof(InputScaledIA3Module), config, inFeatures, outFeatures, baseWeight, device, dtype)
    {
        _bias = bias ?? throw new ArgumentNullException(nameof(bias));
        _vector = new Parameter(ones([1, inFeatures], dtype, device));
        register_parameter("ia3_l", _vector);
        RegisterCommon();
    }

    /// <summary>The (1, in) vector.</summary>
    public Parameter Vector => _vector;

    /// <inheritdoc />
    protected override double Scale => 1.0;

    /// <inheritdoc />
    public override Tensor Contribution(Tensor? previous, Tensor layerInput)
    {
        ArgumentNullException.ThrowIfNull(layerInput);
        // The scaled input replaces the layer input, so nothing can be stacked before this module.
        if (previous is not null) throw new InvalidOperationException("A feed-forward IA3 module scales the layer input and cannot follow another adapter in a stack.");
        return layerInput * _vector.reshape(-1);
    }

    /// <inheritdoc />
    internal override bool CombineReadsWeight => true;

    /// <inheritdoc />
    public override Tensor Combine(Tensor layerOutput, Tensor contribution, Tensor weight) =>
        nn.functional.linear(contribution, weight, _bias());

    /// <inheritdoc />
    public override Tensor MergedWeight(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        return weight * _vector;
    }

    /// <inheritdoc />
    protected override Tensor UnscaledDelta() => throw new InvalidOperationException("IA3 has no additive weight update.");
}
