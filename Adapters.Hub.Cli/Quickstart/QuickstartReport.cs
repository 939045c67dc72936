namespace Adapters.Hub.Cli.Quickstart;

/// <summary>What <c>adapters-hub quickstart</c> did; printed as one object with <c>--json</c>.</summary>
internal sealed record QuickstartReport
{
    /// <summary>The embedded registry's base URL (<c>HF_ENDPOINT</c>).</summary>
    public required string Endpoint { get; init; }

    /// <summary>The repository the adapter was pushed to.</summary>
    public required string RepoId { get; init; }

    /// <summary>The commit the push created.</summary>
    public required string CommitId { get; init; }

    /// <summary>The adapter's config string.</summary>
    public required string AdapterConfig { get; init; }

    /// <summary>Accuracy on the held-out split after training.</summary>
    public required double TestAccuracy { get; init; }

    /// <summary>The accuracy the run had to reach.</summary>
    public required double AccuracyThreshold { get; init; }

    /// <summary>Training epochs run.</summary>
    public required int Epochs { get; init; }

    /// <summary>Files pulled from the registry into the fresh cache.</summary>
    public required IReadOnlyList<string> PulledFiles { get; init; }

    /// <summary>Predictions of the reloaded model on the demo sentences.</summary>
    public required IReadOnlyList<QuickstartPrediction> Predictions { get; init; }

    /// <summary>The model's <c>adapter_summary()</c> table.</summary>
    public required string AdapterSummary { get; init; }

    /// <summary>Each step with what happened and how long it took.</summary>
    public required IReadOnlyList<QuickstartStep> Steps { get; init; }

    /// <summary>The temporary folder of the run (registry, caches, base weights).</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>Whether the registry was left running (<c>--keep</c>).</summary>
    public required bool Kept { get; init; }
}

/// <summary>One sentence classified by the adapter loaded back from the registry.</summary>
internal sealed record QuickstartPrediction(string Text, string Label, double Probability);

/// <summary>One quickstart step: its name, what happened, and its duration.</summary>
internal sealed record QuickstartStep(string Name, string Detail, double Seconds);
