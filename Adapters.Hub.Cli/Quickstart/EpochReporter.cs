using Adapters.Core.Training;

namespace Adapters.Hub.Cli.Quickstart;

/// <summary>
/// Turns the trainer's per-step progress into the quickstart's per-epoch progress: the mean step loss of the epoch and
/// the held-out accuracy the trainer evaluated at its end.
/// </summary>
internal sealed class EpochReporter(IProgress<EpochProgress> progress, int batchesPerEpoch, int maxEpochs) : IProgress<TrainingProgress>
{
    private double _lossSum;
    private int _steps;

    /// <summary>The accuracy of the last finished epoch.</summary>
    public double LastAccuracy { get; private set; }

    /// <inheritdoc />
    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _lossSum += value.Loss;
        _steps++;
        if (value.EvalMetric is not { } accuracy) return;
        LastAccuracy = accuracy;
        progress.Report(new EpochProgress((int)(value.Step / batchesPerEpoch), maxEpochs, _lossSum / _steps, accuracy));
        _lossSum = 0;
        _steps = 0;
    }
}
