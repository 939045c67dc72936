using Adapters.Core.Heads;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>An encoder over token ids, as prediction heads need it: the forward pass and the facts heads are built from.</summary>
public interface ITextEncoder : IHeadBackbone
{
    /// <summary>The architecture.</summary>
    EncoderConfig Config { get; }

    /// <summary>Runs the encoder; the mask is 1 for tokens to attend to; token types are ignored by models without them.</summary>
    EncoderOutput Encode(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null);

    /// <inheritdoc />
    HeadBackboneFacts IHeadBackbone.HeadFacts => new(Config.HiddenSize, Config.VocabSize, Config.InitializerRange,
        Config.LayerNormEps, Config.HiddenDropoutProb, TieWordEmbeddings: true, HeadBackboneFacts.EncoderHeadTypes);

    /// <inheritdoc />
    EncoderOutput IHeadBackbone.EncodeForHeads(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds) =>
        Encode(inputIds, attentionMask, tokenTypeIds);
}
