namespace Adapters.Hub.Cli.Quickstart;

/// <summary>Settings of a quickstart run; the defaults are what <c>adapters-hub quickstart</c> uses.</summary>
internal sealed record QuickstartOptions
{
    /// <summary>The folder with the bundled config, vocabulary and sentences.</summary>
    public string DataDirectory { get; init; } = QuickstartData.DefaultDirectory;

    /// <summary>Where the run's temporary folder is created (the system temp folder when null).</summary>
    public string? TempRoot { get; init; }

    /// <summary>The LoRA config string of the trained adapter.</summary>
    public string AdapterConfig { get; init; } = "lora[r=8,alpha=16,intermediate_lora=True,output_lora=True]";

    /// <summary>The name of the adapter and its head.</summary>
    public string AdapterName { get; init; } = "sentiment";

    /// <summary>The repository pushed to on the embedded registry.</summary>
    public string RepoId { get; init; } = "quickstart/tiny-bert-sentiment-lora";

    /// <summary>Held-out accuracy the run must reach; below it the run fails.</summary>
    public double AccuracyThreshold { get; init; } = 0.75;

    /// <summary>Training stops early once held-out accuracy reaches this.</summary>
    public double TargetAccuracy { get; init; } = 0.85;

    /// <summary>The most training epochs.</summary>
    public int MaxEpochs { get; init; } = 40;

    /// <summary>Sentences per optimizer step.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>AdamW learning rate.</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>The seed of weights, dropout and shuffling, so runs repeat exactly.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>The demo sentences classified after the adapter is loaded back.</summary>
    public IReadOnlyList<string> DemoSentences { get; init; } =
    [
        "i loved this film , the acting was wonderful",
        "i hated this film , the acting was terrible",
    ];
}
