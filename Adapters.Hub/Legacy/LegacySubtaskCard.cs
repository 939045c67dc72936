namespace Adapters.Hub.Legacy;

/// <summary>A subtask (dataset) card, <c>subtasks/&lt;type&gt;/&lt;task&gt;_&lt;subtask&gt;.yaml</c>.</summary>
public sealed class LegacySubtaskCard
{
    /// <summary>Registry-relative path.</summary>
    public required string Path { get; init; }

    /// <summary>The task.</summary>
    public required string Task { get; init; }

    /// <summary>The subtask.</summary>
    public required string Subtask { get; init; }

    /// <summary>The display name, or null.</summary>
    public string? DisplayName { get; init; }

    /// <summary>The description.</summary>
    public required string Description { get; init; }

    /// <summary>The Hugging Face Datasets id, or null.</summary>
    public string? HfDatasetsId { get; init; }

    /// <summary>The data's language, or null.</summary>
    public string? Language { get; init; }

    /// <summary>A URL with more information, or null.</summary>
    public string? Url { get; init; }
}
