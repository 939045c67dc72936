namespace Adapters.Core.Peft;

/// <summary>Choices for saving one of our adapters in PEFT's format.</summary>
public sealed record PeftExportOptions
{
    /// <summary>PEFT's <c>task_type</c> (e.g. "SEQ_CLS"); null, the default, for the bare encoder (<c>AutoModel</c>).</summary>
    public string? TaskType { get; init; }

    /// <summary><c>base_model_name_or_path</c>; defaults to the model's <see cref="Models.AdapterModel.ModelName"/>.</summary>
    public string? BaseModelNameOrPath { get; init; }

    /// <summary>
    /// Whether keys and module paths include the base prefix (<c>base_model.model.bert.encoder…</c>), as for a PEFT
    /// model built on a task model such as <c>BertForSequenceClassification</c>. Null (the default) includes it exactly
    /// when <see cref="TaskType"/> names a task with a head.
    /// </summary>
    public bool? IncludeBasePrefix { get; init; }

    /// <summary>Also write the legacy <c>adapter_model.bin</c> next to <c>adapter_model.safetensors</c>.</summary>
    public bool WriteTorchBin { get; init; }
}
