using System.Text;

namespace Adapters.Hub.Cards;

/// <summary>
/// The model card of a pushed PEFT adapter, with the front matter PEFT's <c>create_or_update_model_card</c> writes
/// (<c>library_name: peft</c>, <c>base_model</c>, the tags <c>base_model:adapter:&lt;base&gt;</c>, <c>lora</c> for LoRA and
/// <c>transformers</c>, <c>pipeline_tag: text-generation</c> for causal LMs), so that the Hub lists it as an adapter
/// of its base model and Python's <c>PeftModel.from_pretrained</c> finds it by repository id.
/// </summary>
public static class PeftCard
{
    /// <summary>The library name PEFT puts on its cards.</summary>
    public const string LibraryName = "peft";

    /// <summary>Creates a new card.</summary>
    public static ModelCard Create(PeftCardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var metadata = new ModelCardMetadata();
        ApplyMetadata(metadata, options);
        return new ModelCard(metadata, Body(options));
    }

    /// <summary>Adds PEFT's keys and tags to an existing card, keeping everyone else's and its text.</summary>
    public static ModelCard Refresh(ModelCard existing, PeftCardOptions options)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(options);
        ApplyMetadata(existing.Metadata, options);
        if (string.IsNullOrWhiteSpace(existing.Body)) existing.Body = Body(options);
        return existing;
    }

    /// <summary>PEFT's tags for the adapter, sorted as PEFT writes them.</summary>
    public static IReadOnlyList<string> Tags(PeftCardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tags = new SortedSet<string>(StringComparer.Ordinal) { "transformers" };
        if (options.PeftType == "LORA") tags.Add("lora");
        if (!string.IsNullOrEmpty(options.BaseModel)) tags.Add($"base_model:adapter:{options.BaseModel}");
        foreach (var tag in options.Tags) tags.Add(tag);
        return [.. tags];
    }

    private static void ApplyMetadata(ModelCardMetadata metadata, PeftCardOptions options)
    {
        metadata.SetString("library_name", LibraryName);
        metadata.AddToList("tags", Tags(options));
        if (options.TaskType == "CAUSAL_LM" && metadata.GetString("pipeline_tag") is null) metadata.SetString("pipeline_tag", "text-generation");
        if (!string.IsNullOrEmpty(options.BaseModel)) metadata.SetString("base_model", options.BaseModel);
    }

    private static string Body(PeftCardOptions o)
    {
        var auto = o.TaskType switch
        {
            "CAUSAL_LM" => "AutoModelForCausalLM",
            "SEQ_CLS" => "AutoModelForSequenceClassification",
            "TOKEN_CLS" => "AutoModelForTokenClassification",
            "SEQ_2_SEQ_LM" => "AutoModelForSeq2SeqLM",
            "QUESTION_ANS" => "AutoModelForQuestionAnswering",
            _ => "AutoModel",
        };
        var baseModel = string.IsNullOrEmpty(o.BaseModel) ? "BASE_MODEL" : o.BaseModel;
        var text = new StringBuilder();
        // PEFT's template titles a card saved before any push "Model Card for Model ID".
        text.Append("# ").Append(o.RepoId ?? "Model Card for Model ID").Append("\n\n");
        text.Append("A PEFT ").Append(o.PeftType).Append(" adapter");
        if (!string.IsNullOrEmpty(o.BaseModel)) text.Append(" for `").Append(o.BaseModel).Append('`');
        if (!string.IsNullOrEmpty(o.TaskType)) text.Append(" (task type `").Append(o.TaskType).Append("`)");
        text.Append(", in PEFT's folder format (`adapter_config.json` and `adapter_model.safetensors` or `adapter_model.bin`).\n\n");
        text.Append("## Usage\n\n```python\nfrom peft import PeftModel\nfrom transformers import ").Append(auto).Append("\n\n");
        text.Append("model = ").Append(auto).Append(".from_pretrained(\"").Append(baseModel).Append("\")\n");
        text.Append("model = PeftModel.from_pretrained(model, \"").Append(o.RepoId ?? "PATH_OR_REPO_ID").Append("\")\n```\n\n");
        text.Append("### Framework versions\n\n- Adapters.NET (PEFT 0.14 folder format)\n");
        return text.ToString();
    }
}

/// <summary>What <see cref="PeftCard"/> writes.</summary>
public sealed record PeftCardOptions
{
    /// <summary>The repository id, for the title and the snippet; null for a card saved with the folder before any push.</summary>
    public string? RepoId { get; init; }

    /// <summary><c>peft_type</c>, e.g. <c>LORA</c>.</summary>
    public required string PeftType { get; init; }

    /// <summary><c>task_type</c>, when recorded.</summary>
    public string? TaskType { get; init; }

    /// <summary>The base model's id (<c>base_model_name_or_path</c>), when recorded.</summary>
    public string? BaseModel { get; init; }

    /// <summary>More tags.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}
