using Adapters.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void Initialize_loads_libtorch_2_10_in_the_test_host()
    {
        var info = TorchRuntime.Initialize();

        Assert.StartsWith("2.10.", info.LibTorchVersion, StringComparison.Ordinal);
        Assert.Equal("0.107.0", info.TorchSharpVersion);
        Assert.Equal("libtorch-cpu-linux-x64", info.BackendPackage);
        Assert.True(info.IntraOpThreads >= 1);
    }

    [Fact]
    public void Tensor_math_runs_on_the_native_backend()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();

        var a = tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        var b = tensor(new float[] { 5, 6, 7, 8 }, 2, 2);
        var product = matmul(a, b);

        Assert.Equal(new float[] { 19, 22, 43, 50 }, product.data<float>().ToArray());
    }

    [Fact]
    public void Linear_forward_matches_hand_computed_values()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var linear = nn.Linear(3, 2);
        using (no_grad())
        {
            linear.weight!.copy_(tensor(new float[] { 1, 0, -1, 0.5f, 0.5f, 0.5f }, 2, 3));
            linear.bias!.copy_(tensor(new float[] { 0.25f, -1 }));
        }

        var output = linear.forward(tensor(new float[] { 2, 4, 6 }, 1, 3));

        Assert.Equal(new long[] { 1, 2 }, output.shape);
        Assert.Equal(new float[] { 2 - 6 + 0.25f, 6 - 1 }, output.data<float>().ToArray());
    }
}
