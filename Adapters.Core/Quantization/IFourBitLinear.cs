using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Quantization;

/// <summary>
/// A linear layer whose frozen base weight can be held in bitsandbytes' 4-bit form (QLoRA): every projection of a
/// transformer block that bitsandbytes would quantize (attention q/k/v and output, the feed-forward layers, GPT-2's
/// fused <c>c_attn</c> and <c>Conv1D</c> projections). Embeddings and the LM head stay in the compute dtype, as
/// transformers keeps <c>lm_head</c> out of 4 bits by default.
/// </summary>
public interface IFourBitLinear
{
    /// <summary>The stored weight: dense in its layer's layout, or the packed uint8 bytes once quantized.</summary>
    Parameter weight { get; }

    /// <summary>The bias (always dense), or null.</summary>
    Parameter? bias { get; }

    /// <summary>Input width.</summary>
    long InFeatures { get; }

    /// <summary>Output width.</summary>
    long OutFeatures { get; }

    /// <summary>The 4-bit state, or null for a dense weight.</summary>
    FourBitQuantState? QuantState { get; }

    /// <summary>The dtype a 4-bit weight is dequantized to for the matmul.</summary>
    ScalarType ComputeDtype { get; }

    /// <summary>The weight as an (out, in) matrix: a view of a dense weight, or a freshly dequantized copy of a 4-bit one.</summary>
    Tensor OutInWeight { get; }

    /// <summary>Replaces the dense weight by its 4-bit form.</summary>
    /// <exception cref="InvalidOperationException">An adapter is merged, or the weight is already quantized.</exception>
    void QuantizeWeight(FourBitOptions options);

    /// <summary>Installs an already packed (out, in) weight; the layer owns both afterwards.</summary>
    /// <exception cref="QuantizationException">The state's shape is not this layer's (out, in).</exception>
    void UseQuantizedWeight(Tensor packed, FourBitQuantState state, ScalarType computeDtype);

    /// <summary>Turns a 4-bit weight back into a dense one in <see cref="ComputeDtype"/> (keeping the quantization error).</summary>
    void DequantizeWeight();
}

/// <summary>
/// A 4-bit layer built for streaming quantize-at-load (<see cref="FourBitLoadScope"/>): its weight is a shape-only
/// placeholder on the meta device until the loader hands it the stored tensor, which it quantizes at once.
/// </summary>
internal interface IDeferredFourBitLinear
{
    /// <summary>Whether the weight is still the placeholder waiting for its stored tensor.</summary>
    bool AwaitsFourBitWeight { get; }

    /// <summary>Quantizes <paramref name="stored"/> (the weight as the checkpoint stores it, in this layer's layout) into the layer.</summary>
    void QuantizeLoadedWeight(Tensor stored);
}
