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
        weight = new Parameter(zeros([inFeatures, outFeatures], dtype, device));
        bias = new Parameter(zeros([outFeatures], dtype, device));
        register_parameter("weight", weight);
        register_parameter("bias", bias);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    public long InFeatures { get; }
    public long OutFeatures { get; }
    public Parameter weight { get; }
    public Parameter bias { get; }

    public override Tensor forward(Tensor input) =>
        addmm(bias, input.reshape(-1, InFeatures), weight, 1, 1).reshape([.. input.shape[..^1], OutFeatures]);
}
