namespace Adapters.Core.Peft;

/// <summary>PEFT's <c>task_type</c> values (<c>peft.utils.peft_types.TaskType</c>) and what they mean for the wrapped model.</summary>
public static class PeftTaskTypes
{
    /// <summary>Sequence classification (<c>PeftModelForSequenceClassification</c>): the head is saved as a <c>modules_to_save</c> copy.</summary>
    public const string SequenceClassification = "SEQ_CLS";

    /// <summary>Token classification (<c>PeftModelForTokenClassification</c>).</summary>
    public const string TokenClassification = "TOKEN_CLS";

    /// <summary>Causal language modelling (<c>PeftModelForCausalLM</c>).</summary>
    public const string CausalLM = "CAUSAL_LM";

    /// <summary>Sequence-to-sequence language modelling.</summary>
    public const string Seq2SeqLM = "SEQ_2_SEQ_LM";

    /// <summary>Question answering.</summary>
    public const string QuestionAnswering = "QUESTION_ANS";

    /// <summary>Feature extraction (the bare model).</summary>
    public const string FeatureExtraction = "FEATURE_EXTRACTION";

    /// <summary>Every task type PEFT 0.14 defines.</summary>
    public static IReadOnlyList<string> All { get; } = [SequenceClassification, Seq2SeqLM, CausalLM, TokenClassification, QuestionAnswering, FeatureExtraction];

    /// <summary>The head names PEFT adds to <c>modules_to_save</c> for classification task types, in its order.</summary>
    public static IReadOnlyList<string> ClassifierModuleNames { get; } = ["classifier", "score"];

    /// <summary>Whether <paramref name="taskType"/> is one PEFT defines.</summary>
    public static bool IsKnown(string taskType) => All.Contains(taskType, StringComparer.Ordinal);
}
