using static TorchSharp.torch;

namespace Adapters.Core.Methods.Bottleneck;

/// <summary>Row-wise drop path as torchvision's <c>StochasticDepth(p, mode="row")</c>: whole examples are zeroed in training.</summary>
internal static class StochasticDepth
{
    public static Tensor Apply(Tensor input, double p, bool training)
    {
        if (!training || p == 0.0) return input;
        var survival = 1.0 - p;
        var shape = new long[input.dim()];
        shape[0] = input.shape[0];
        for (var i = 1; i < shape.Length; i++) shape[i] = 1;
        using var noise = empty(shape, input.dtype, input.device).bernoulli_(survival);
        if (survival > 0.0) noise.div_(survival);
        return input * noise;
    }
}
