using Adapters.Core.Serialization;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft;

/// <summary>Writes hand-made PEFT folders for the import tests.</summary>
internal static class PeftTestFolders
{
    public static string Write(string configJson, IReadOnlyDictionary<string, Tensor> weights)
    {
        var dir = Directory.CreateTempSubdirectory("peft-").FullName;
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"), configJson);
        TensorFiles.Save(Path.Combine(dir, "adapter_model.safetensors"), weights);
        return dir;
    }

    /// <summary>Runs <paramref name="forward"/> with every linear weight W of <paramref name="deltas"/> replaced by W + ΔW, then restores them.</summary>
    public static Tensor WithDeltas(IReadOnlyDictionary<Tensor, Tensor> deltas, Func<Tensor> forward)
    {
        var saved = deltas.Keys.ToDictionary(w => w, w => w.detach().clone());
        using (no_grad())
        {
            foreach (var (weight, delta) in deltas) weight.add_(delta);
        }
        try
        {
            return forward();
        }
        finally
        {
            using (no_grad())
            {
                foreach (var (weight, original) in saved) weight.copy_(original);
            }
        }
    }
}
