using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods;

/// <summary>The initialisations the adapters library uses, applied in place without recording gradients.</summary>
internal static class WeightInit
{
    /// <summary>"bert": weight ~ N(0, std), bias 0.</summary>
    public static void Bert(TorchSharp.Modules.Linear linear, double std = 0.02)
    {
        using var _ = no_grad();
        nn.init.normal_(linear.weight, 0.0, std);
        if (linear.bias is not null) nn.init.zeros_(linear.bias);
    }

    /// <summary>PyTorch's default <c>nn.Linear</c> init: kaiming_uniform(a=√5) weights and U(±1/√fan_in) bias.</summary>
    public static void TorchDefault(TorchSharp.Modules.Linear linear)
    {
        using var _ = no_grad();
        nn.init.kaiming_uniform_(linear.weight, Math.Sqrt(5));
        if (linear.bias is not null)
        {
            var bound = 1.0 / Math.Sqrt(linear.weight.shape[1]);
            nn.init.uniform_(linear.bias, -bound, bound);
        }
    }

    /// <summary>Truncated normal, as <c>torch.nn.init.trunc_normal_(t, std=std, a=lower, b=upper)</c>.</summary>
    public static void TruncNormal(Tensor tensor, double std, double lower, double upper)
    {
        using var _ = no_grad();
        nn.init.trunc_normal_(tensor, 0.0, std, lower, upper);
    }

    /// <summary>A new linear layer on the given device and dtype.</summary>
    public static TorchSharp.Modules.Linear Linear(long inFeatures, long outFeatures, bool bias, Device? device, ScalarType? dtype) =>
        nn.Linear(inFeatures, outFeatures, bias, device, dtype);
}
