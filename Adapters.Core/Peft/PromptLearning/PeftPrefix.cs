using Adapters.Core.Generation;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// PEFT's prefix as <c>past_key_values</c> for one forward pass: the encoder output (num_virtual_tokens,
/// num_layers·2·token_dim) viewed (nvt, 2·layers, heads, head_dim), so that layer <c>l</c>'s keys are slot <c>2l</c>
/// and its values slot <c>2l+1</c>, each repeated over the batch as (batch, heads, nvt, head_dim). Because PEFT hands
/// the prefix to the model as a cache, it occupies the first positions: the tokens' positions start at nvt
/// (<see cref="PeftVirtualTokens.PositionOffset"/>), and the attention mask gets nvt attended columns in front.
/// </summary>
public sealed class PeftPrefix : IAttentionPrefix
{
    private readonly Tensor _slots;

    /// <summary>Splits <paramref name="flat"/> (nvt, layers·2·token_dim) for <paramref name="config"/>, cast to <paramref name="dtype"/>.</summary>
    public PeftPrefix(PeftPromptLearningConfig config, Tensor flat, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(flat);
        var headDim = config.TokenDim / config.NumAttentionHeads;
        // (nvt, 2L, heads, hd) → (2L, heads, nvt, hd), as PEFT's permute([2, 0, 3, 1, 4]) without the batch axis.
        _slots = flat.to(dtype).view(config.NumVirtualTokens, config.NumLayers * 2, config.NumAttentionHeads, headDim).permute(1, 2, 0, 3);
        Layers = config.NumLayers;
        Length = config.NumVirtualTokens;
    }

    /// <summary>The number of layers the prefix covers.</summary>
    public int Layers { get; }

    /// <inheritdoc />
    public long Length { get; }

    /// <inheritdoc />
    public (Tensor Key, Tensor Value)? ForLayer(int layerIndex, long batchSize)
    {
        if (layerIndex < 0 || layerIndex >= Layers) return null;
        var key = _slots[2 * layerIndex].unsqueeze(0).expand(batchSize, -1, -1, -1);
        var value = _slots[2 * layerIndex + 1].unsqueeze(0).expand(batchSize, -1, -1, -1);
        return (key, value);
    }
}
