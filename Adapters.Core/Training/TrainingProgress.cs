namespace Adapters.Core.Training;

/// <summary>One progress report of <see cref="AdapterTrainer{TBatch}"/>, sent after every optimizer step.</summary>
/// <param name="Step">Optimizer steps done.</param>
/// <param name="TotalSteps">Optimizer steps planned.</param>
/// <param name="Epoch">Fractional epoch (micro-batches seen / batches per epoch).</param>
/// <param name="Loss">The step's training loss (mean over its accumulated micro-batches).</param>
/// <param name="LearningRate">The learning rate used by the step.</param>
/// <param name="EvalMetric">The evaluation metric, when this step evaluated.</param>
public sealed record TrainingProgress(long Step, long TotalSteps, double Epoch, double Loss, double LearningRate, double? EvalMetric);
