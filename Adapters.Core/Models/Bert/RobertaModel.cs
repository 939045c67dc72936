namespace Adapters.Core.Models.Bert;

/// <summary>
/// RoBERTa and XLM-RoBERTa: BERT's layout with position ids counted from <c>padding_idx + 1</c> over non-padding
/// tokens, saved under the <c>roberta.</c> prefix.
/// </summary>
public sealed class RobertaModel : BertModel
{
    /// <summary>Builds a randomly initialised RoBERTa / XLM-R.</summary>
    public RobertaModel(EncoderConfig config, bool addPoolingLayer = true)
        : base(config, addPoolingLayer, "roberta", robertaPositions: true)
    {
    }
}
