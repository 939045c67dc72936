using static TorchSharp.torch;

namespace Adapters.Core.Models.Bert;

/// <summary>
/// RoBERTa and XLM-RoBERTa: BERT's layout with position ids counted from <c>padding_idx + 1</c> over non-padding
/// tokens, saved under the <c>roberta.</c> prefix.
/// </summary>
public sealed class RobertaModel : BertModel
{
    /// <summary>Builds a randomly initialised RoBERTa / XLM-R.</summary>
    /// <param name="config">The architecture.</param>
    /// <param name="addPoolingLayer">Whether to include the pooler (transformers' <c>add_pooling_layer</c>).</param>
    /// <param name="device">The device of the parameters; the CPU when null.</param>
    /// <param name="dtype">The parameter dtype; float32 when null.</param>
    public RobertaModel(EncoderConfig config, bool addPoolingLayer = true, Device? device = null, ScalarType? dtype = null)
        : base(config, addPoolingLayer, "roberta", robertaPositions: true, device, dtype)
    {
    }
}
