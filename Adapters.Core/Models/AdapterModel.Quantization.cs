using Adapters.Core.Methods.LoRA;
using Adapters.Core.Quantization;
using Adapters.Core.Serialization;

namespace Adapters.Core.Models;

public abstract partial class AdapterModel
{
    /// <summary>
    /// Quantizes the model's adaptable projections (every <see cref="AdaptableLinear"/>: attention q/k/v and the
    /// feed-forward layers) to 4 bits, QLoRA's frozen base: the packed weights replace the dense ones, each forward
    /// pass dequantizes per layer into the compute dtype, and every adapter method (LoRA, IA³, DoRA, bottleneck,
    /// prefix tuning, ReFT, …) works on top. Merging into a 4-bit projection is refused (see
    /// <see cref="AdaptableLinear.Merge"/>). Already quantized projections are left as they are.
    /// </summary>
    /// <returns>How many projections were quantized.</returns>
    public int QuantizeBaseWeights(FourBitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var count = 0;
        foreach (var (_, linear) in BaseLinears())
        {
            if (linear.QuantState is not null) continue;
            linear.QuantizeWeight(options);
            count++;
        }
        return count;
    }

    /// <summary>The base model's adaptable projections with their module paths (adapter containers left out).</summary>
    public IReadOnlyList<(string Path, AdaptableLinear Linear)> BaseLinears() =>
        named_modules().Where(m => m.module is AdaptableLinear && !IsAdapterContainerPath(m.name))
            .Select(m => (m.name, (AdaptableLinear)m.module)).ToArray();

    /// <summary>Loads the bitsandbytes 4-bit weights of <paramref name="file"/>, keys matched as <see cref="LoadModelStateDict"/> matches them.</summary>
    internal FourBitCheckpoint.Result LoadFourBitWeights(TensorFile file, string path)
    {
        var tensors = NamedTensors();
        return FourBitCheckpoint.Load(this, file, path, key =>
        {
            var name = Unprefixed(key);
            return tensors.ContainsKey(name) ? name : null;
        });
    }
}
