using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Adapters.Core.Quantization;

/// <summary>
/// <c>input @ dequantize(W).T</c> whose backward dequantizes <c>W</c> again instead of keeping the dense weight
/// alive between forward and backward (bitsandbytes' <c>MatMul4Bit</c>): a training step holds one dense weight at a
/// time, not one per layer. The packed weight never receives a gradient; only the input does.
/// </summary>
internal sealed class FourBitMatmul : SingleTensorFunction<FourBitMatmul>
{
    private const string WeightKey = "weight";

    /// <summary>The packed weight, its state and the dtype it is dequantized to.</summary>
    internal sealed record Operand(Tensor Packed, FourBitQuantState State, ScalarType Dtype)
    {
        public Tensor Dense() => FourBitQuantizer.Dequantize(Packed, State, Dtype).view(State.Shape[0], -1);
    }

    /// <summary>Runs the product; <paramref name="input"/>'s last dimension is the weight's input width.</summary>
    public static Tensor Apply(Tensor input, Operand weight)
    {
        if (!(input.requires_grad && is_grad_enabled()))
        {
            using var dense = weight.Dense();
            return input.matmul(dense.t());
        }
        return apply(input, weight);
    }

    /// <inheritdoc />
    public override string Name => nameof(FourBitMatmul);

    /// <inheritdoc />
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var weight = (Operand)vars[1];
        ctx.save_data(WeightKey, weight);
        using var dense = weight.Dense();
        return input.matmul(dense.t());
    }

    /// <inheritdoc />
    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        var weight = (Operand)ctx.get_data(WeightKey);
        using var dense = weight.Dense();
        // One entry per forward argument: the operand is not a tensor and gets none.
        return [grad_output.matmul(dense.to(grad_output.dtype)), null!];
    }
}
