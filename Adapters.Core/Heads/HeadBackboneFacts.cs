namespace Adapters.Core.Heads;

/// <summary>What a new head needs to know about its base model.</summary>
/// <param name="HiddenSize">The hidden width heads read.</param>
/// <param name="VocabSize">The vocabulary size LM heads predict over.</param>
/// <param name="InitializerRange">The std of the normal init Python's <c>_init_weights</c> gives head linears.</param>
/// <param name="LayerNormEps">The epsilon of an LM head's layer norm.</param>
/// <param name="HiddenDropoutProb">The dropout heads use when their config has no <c>dropout_prob</c>.</param>
/// <param name="TieWordEmbeddings">Whether LM decoders share the input embeddings (<c>tie_word_embeddings</c>).</param>
/// <param name="HeadTypes">The <c>head_type</c>s the model offers (Python's <c>head_types</c> of its AdapterModel class).</param>
public sealed record HeadBackboneFacts(int HiddenSize, int VocabSize, double InitializerRange, double LayerNormEps,
    double HiddenDropoutProb, bool TieWordEmbeddings, IReadOnlyList<string> HeadTypes)
{
    /// <summary>Head types of Python's encoder AdapterModels (BERT, RoBERTa, DistilBERT) that this port builds.</summary>
    public static IReadOnlyList<string> EncoderHeadTypes { get; } =
        ["classification", "multilabel_classification", "tagging", "question_answering", "masked_lm", "causal_lm"];

    /// <summary>Head types of Python's GPT-2, Llama, Mistral and Qwen2 AdapterModels.</summary>
    public static IReadOnlyList<string> DecoderHeadTypes { get; } =
        ["classification", "multilabel_classification", "tagging", "question_answering", "causal_lm"];
}
