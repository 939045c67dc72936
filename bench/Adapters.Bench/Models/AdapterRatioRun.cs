namespace Adapters.Bench.Models;

/// <summary><c>ratio adapters [rounds] [forward|training]</c>: BERT-base forward/training ratios of merged and unmerged LoRA and seq_bn against the base model.</summary>
public sealed class AdapterRatioRun : IRatioRun
{
    /// <inheritdoc />
    public string Name => "adapters";

    /// <inheritdoc />
    public Task RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 5;
        AdapterRatioMode.Run(rounds, only: args.Length > 1 ? args[1] : null);
        return Task.CompletedTask;
    }
}
