namespace Adapters.Core.Training;

/// <summary>The outcome of <see cref="AdapterTrainer{TBatch}.Train"/>.</summary>
/// <param name="GlobalStep">Optimizer steps done in total (including those before a resume).</param>
/// <param name="StoppedEarly">Whether early stopping ended the run.</param>
/// <param name="BestMetric">The best evaluation metric seen, if any evaluation ran.</param>
/// <param name="Losses">The training loss of every step run in this call.</param>
public sealed record TrainingResult(long GlobalStep, bool StoppedEarly, double? BestMetric, IReadOnlyList<double> Losses);
