using TorchSharp.Modules;
using static TorchSharp.torch;
using Adapters.Core.Models;

namespace Adapters.Core.Heads;

/// <summary>
/// A base model that flex prediction heads sit on, in the role of Python's <c>ModelWithFlexibleHeadsAdaptersMixin</c>:
/// the facts heads are built from and one forward pass that yields the hidden states and the vector classification
/// heads read (Python's <c>cls_output</c>). Encoders get it from <see cref="ITextEncoder"/>; decoders implement it.
/// </summary>
public interface IHeadBackbone
{
    /// <summary>Sizes, init and dropout settings for new heads, and the head types the model offers.</summary>
    HeadBackboneFacts HeadFacts { get; }

    /// <summary>The input word-embedding matrix (vocab, hidden), to which LM decoders are tied.</summary>
    Parameter WordEmbeddings { get; }

    /// <summary>
    /// Runs the model for heads; the mask is 1 for tokens to attend to; token types are ignored by models without them.
    /// <see cref="EncoderOutput.ClsOutput"/> is the vector classification heads read when they do not use a pooler.
    /// </summary>
    EncoderOutput EncodeForHeads(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null);
}
