namespace Adapters.Hub.Cards;

/// <summary>What goes into an adapter's model card; mirrors Python's <c>push_adapter_to_hub</c> arguments.</summary>
public sealed record AdapterCardOptions
{
    /// <summary>The full repo id the adapter is pushed to (<c>org/name</c>).</summary>
    public required string RepoId { get; init; }

    /// <summary>The base model (<c>config.name_or_path</c> in Python), e.g. <c>roberta-base</c>.</summary>
    public required string ModelName { get; init; }

    /// <summary>The base model's <c>model_type</c>, added as a tag (e.g. <c>roberta</c>).</summary>
    public string? ModelType { get; init; }

    /// <summary>The adapter's name inside the model.</summary>
    public string? AdapterName { get; init; }

    /// <summary>Dataset id the adapter was trained on (<c>datasets_tag</c>).</summary>
    public string? DatasetTag { get; init; }

    /// <summary>Extra tags besides <c>adapter-transformers</c> and the model type.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Language code(s).</summary>
    public IReadOnlyList<string> Language { get; init; } = [];

    /// <summary>License id, written quoted as Python does.</summary>
    public string? License { get; init; }

    /// <summary>Metric names.</summary>
    public IReadOnlyList<string> Metrics { get; init; } = [];

    /// <summary>The prediction head's type (e.g. <c>classification</c>) when a head of the adapter's name is saved.</summary>
    public string? HeadType { get; init; }

    /// <summary>The adapter method, e.g. <c>bottleneck</c> or <c>lora</c> (<c>architecture</c> in adapter_config.json).</summary>
    public string? Method { get; init; }

    /// <summary>Parameters in the adapter (and head) weights.</summary>
    public long? ParameterCount { get; init; }

    /// <summary>Parameters of the base model, to report the adapter's share.</summary>
    public long? ModelParameterCount { get; init; }

    /// <summary>Text of the "Architecture &amp; Training" section.</summary>
    public string? ArchitectureTraining { get; init; }

    /// <summary>Text of the "Evaluation results" section.</summary>
    public string? Results { get; init; }

    /// <summary>Text of the "Citation" section.</summary>
    public string? Citation { get; init; }

    /// <summary>The Python load call, <c>load_adapter</c> or <c>load_adapter_setup</c>.</summary>
    public string LoadFunction { get; init; } = "load_adapter";
}
