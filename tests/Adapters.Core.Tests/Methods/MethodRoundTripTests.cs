using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

/// <summary>Save → load gives bit-identical outputs for every method this branch adds.</summary>
public sealed class MethodRoundTripTests
{
    [Theory]
    [InlineData("prefix_tuning[prefix_length=4, bottleneck_size=8]")]
    [InlineData("prefix_tuning_flat[prefix_length=3, leave_out=[0]]")]
    [InlineData("prompt_tuning[prompt_length=3]")]
    [InlineData("loreft[suffix_positions=1]")]
    [InlineData("noreft[tied_weights=True, suffix_positions=2]")]
    [InlineData("prefix_tuning[prefix_length=4, bottleneck_size=8]|par_bn")]
    [InlineData("unipelt")]
    [InlineData("mtl_lora[n_up_projection=2, task_specific_matrix_type='linear', intermediate_lora=True]")]
    [InlineData("seq_bn[inv_adapter='glow', inv_adapter_reduction_factor=2]")]
    public void Saved_adapters_reload_with_identical_outputs(string config)
    {
        using var scope = NewDisposeScope();
        var folder = Directory.CreateTempSubdirectory("methods-roundtrip-").FullName;
        try
        {
            using var source = TinyModels.Bert();
            source.AddAdapter("m", config, setActive: true);
            using (no_grad())
            {
                // Perturb every tensor so zero-initialised parts (par_bn's up-projection) matter too.
                foreach (var (_, parameter) in source.AdapterParameters("m")) parameter.add_(randn_like(parameter) * 0.01);
            }
            var ids = TinyModels.InputIds();
            var mask = tensor(new long[,] { { 1, 1, 1, 1, 1, 1 }, { 0, 1, 1, 1, 1, 1 } });
            var expected = source.Forward(ids, mask).LastHiddenState;
            source.SaveAdapter(folder, "m");

            using var target = TinyModels.Bert();
            var result = target.LoadAdapter(folder, setActive: true);

            Assert.Empty(result.UnexpectedKeys);
            Assert.Equal(source.GetAdapterConfig("m").ToJsonString(), target.GetAdapterConfig("m").ToJsonString());
            Assert.True(TinyModels.Same(expected, target.Forward(ids, mask).LastHiddenState));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
