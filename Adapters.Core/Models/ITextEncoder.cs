using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>An encoder over token ids, as prediction heads need it: the forward pass and the facts heads are built from.</summary>
public interface ITextEncoder
{
    /// <summary>The architecture.</summary>
    EncoderConfig Config { get; }

    /// <summary>The input word-embedding matrix (vocab, hidden), to which masked-LM decoders are tied.</summary>
    Parameter WordEmbeddings { get; }

    /// <summary>Runs the encoder; the mask is 1 for tokens to attend to; token types are ignored by models without them.</summary>
    EncoderOutput Encode(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null);
}
