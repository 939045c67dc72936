using Adapters.Hub.Download;

namespace Adapters.Hub.Upload;

/// <summary>Settings of an adapter push; mirrors Python's <c>push_adapter_to_hub</c> arguments.</summary>
public sealed record AdapterPushOptions
{
    /// <summary>The commit message; Python's default for adapter models is <c>Upload model</c>.</summary>
    public string CommitMessage { get; init; } = "Upload model";

    /// <summary>The commit description.</summary>
    public string CommitDescription { get; init; } = "";

    /// <summary>The branch to push to (created when missing); null means <c>main</c>.</summary>
    public string? Revision { get; init; }

    /// <summary>Open a pull request instead of committing to the branch.</summary>
    public bool CreatePullRequest { get; init; }

    /// <summary>Create the repository as private when it does not exist yet.</summary>
    public bool Private { get; init; }

    /// <summary>Replace an existing README.md with a freshly generated card (Python's <c>overwrite_adapter_card</c>).</summary>
    public bool OverwriteCard { get; init; }

    /// <summary>Card fields beyond what the folder records (dataset, language, license, ...). RepoId and ModelName are filled in.</summary>
    public AdapterCardFields Card { get; init; } = new();

    /// <summary>Only files matching one of these globs are pushed (all when empty).</summary>
    public IReadOnlyList<string> AllowPatterns { get; init; } = [];

    /// <summary>Files matching one of these globs are not pushed.</summary>
    public IReadOnlyList<string> IgnorePatterns { get; init; } = [];

    /// <summary>Reports bytes and files uploaded.</summary>
    public IProgress<TransferProgress>? Progress { get; init; }
}

/// <summary>Optional model-card fields of <see cref="AdapterPushOptions"/>.</summary>
public sealed record AdapterCardFields
{
    /// <summary>Dataset id (Python's <c>datasets_tag</c>).</summary>
    public string? DatasetTag { get; init; }

    /// <summary>Extra tags.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Language codes.</summary>
    public IReadOnlyList<string> Language { get; init; } = [];

    /// <summary>License id.</summary>
    public string? License { get; init; }

    /// <summary>Metric names.</summary>
    public IReadOnlyList<string> Metrics { get; init; } = [];

    /// <summary>Parameters in the adapter, for the card's summary.</summary>
    public long? ParameterCount { get; init; }

    /// <summary>Parameters of the base model, for the card's summary.</summary>
    public long? ModelParameterCount { get; init; }

    /// <summary>"Architecture &amp; Training" text.</summary>
    public string? ArchitectureTraining { get; init; }

    /// <summary>"Evaluation results" text.</summary>
    public string? Results { get; init; }

    /// <summary>"Citation" text.</summary>
    public string? Citation { get; init; }
}
