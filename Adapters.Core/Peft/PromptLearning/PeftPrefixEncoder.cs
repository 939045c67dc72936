using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// PEFT's <c>PrefixEncoder</c> with <c>prefix_projection</c>: <c>embedding</c> (num_virtual_tokens, token_dim), then
/// <c>transform</c> = Linear(token_dim, encoder_hidden_size), Tanh, Linear(encoder_hidden_size,
/// num_layers·2·token_dim). Without projection PEFT's prefix encoder is a plain embedding of the output width, built as
/// a <see cref="PeftPromptEmbedding"/>.
/// </summary>
public sealed class PeftPrefixEncoder : PeftPromptEncoder
{
    private readonly Embedding _embedding;
    private readonly Linear _first;
    private readonly Linear _second;

    /// <summary>Creates the projected encoder with torch's default inits.</summary>
    public PeftPrefixEncoder(PeftPromptLearningConfig config, Device? device, ScalarType? dtype) : base(nameof(PeftPrefixEncoder), config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var width = (long)config.NumLayers * 2 * config.TokenDim;
        _embedding = nn.Embedding(config.NumVirtualTokens, config.TokenDim, device: device, dtype: dtype);
        _first = nn.Linear(config.TokenDim, config.EncoderHiddenSize, true, device, dtype);
        _second = nn.Linear(config.EncoderHiddenSize, width, true, device, dtype);
        register_module("embedding", _embedding);
        // transform.1 is the Tanh, which has no weights.
        register_module("transform", nn.Sequential(("0", _first), ("1", nn.Tanh()), ("2", _second)));
    }

    /// <inheritdoc />
    public override Tensor Output() => _second.call(tanh(_first.call(_embedding.weight!)));
}
