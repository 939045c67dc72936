using Adapters.Core.Methods.LoRA;
using Adapters.Core.Quantization;
using Adapters.Core.Serialization;

namespace Adapters.Core.Models;

public abstract partial class AdapterModel
{
    /// <summary>
    /// Quantizes every linear layer of the transformer blocks (each <see cref="IFourBitLinear"/>: attention q/k/v and
    /// output, the feed-forward layers, GPT-2's fused <c>c_attn</c>) to 4 bits, as bitsandbytes quantizes every
    /// <c>nn.Linear</c>/<c>Conv1D</c> of the blocks; embeddings, norms and the LM head stay in the compute dtype. This
    /// is QLoRA's frozen base: the packed weights replace the dense ones, each matmul dequantizes per layer into the
    /// compute dtype (and again in backward, so no dense weight is kept for it), and every adapter method (LoRA, IA³,
    /// DoRA, bottleneck, prefix tuning, ReFT, PEFT tuners, …) works on top. Merging into a 4-bit layer is refused (see
    /// <see cref="AdaptableLinear.Merge"/>); to bake an adapter in, call <see cref="IFourBitLinear.DequantizeWeight"/>,
    /// merge, and quantize again. Already quantized layers are left as they are.
    /// </summary>
    /// <returns>How many layers were quantized.</returns>
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

    /// <summary>The base model's 4-bit-capable linear layers with their module paths (adapter containers left out).</summary>
    public IReadOnlyList<(string Path, IFourBitLinear Linear)> BaseLinears() =>
        named_modules().Where(m => m.module is IFourBitLinear && !IsAdapterContainerPath(m.name))
            .Select(m => (m.name, (IFourBitLinear)m.module)).ToArray();

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
