using Adapters.Core.Conversion;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Gpt2;

/// <summary>transformers' <c>Conv1D</c>: a linear layer whose <c>weight</c> is stored (in, out); <c>y = x·W + b</c>.</summary>
internal sealed class Conv1D : nn.Module<Tensor, Tensor>
{
    public Conv1D(long inFeatures, long outFeatures, Device? device, ScalarType? dtype) : base(nameof(Conv1D))
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        _weight = new Parameter(zeros([inFeatures, outFeatures], dtype, device));
        _bias = new Parameter(zeros([outFeatures], dtype, device));
        register_parameter("weight", _weight);
        register_parameter("bias", _bias);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    private Parameter _weight;
    private Parameter _bias;

    public long InFeatures { get; }
    public long OutFeatures { get; }
    // Settable under the parameter names so that Module.to(dtype/device) can swap in the converted tensors.
    public Parameter weight
    {
        get => _weight;
        set => _weight = ParameterReplacement.Replace(nameof(Conv1D), nameof(weight), _weight, value, p => ConditionallyRegisterParameter(nameof(weight), p));
    }

    public Parameter bias
    {
        get => _bias;
        set => _bias = ParameterReplacement.Replace(nameof(Conv1D), nameof(bias), _bias, value, p => ConditionallyRegisterParameter(nameof(bias), p));
    }

    public override Tensor forward(Tensor input) =>
        addmm(bias, input.reshape(-1, InFeatures), weight, 1, 1).reshape([.. input.shape[..^1], OutFeatures]);
}
