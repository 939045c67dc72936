using static TorchSharp.torch;

namespace Adapters.Core.Training;

/// <summary>
/// Settings of <see cref="AdapterTrainer{TBatch}"/>, with transformers' <c>TrainingArguments</c> defaults where one
/// exists (AdamW lr 5e-5, betas 0.9/0.999, eps 1e-8, no weight decay, gradient clipping at norm 1, linear schedule).
/// </summary>
public sealed record AdapterTrainerOptions
{
    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 5e-5;
    /// <summary>AdamW weight decay.</summary>
    public double WeightDecay { get; init; }
    /// <summary>AdamW beta1.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW beta2.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>AdamW epsilon.</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Epochs over the batches when <see cref="MaxSteps"/> is not set.</summary>
    public int Epochs { get; init; } = 1;
    /// <summary>Optimizer steps to run in total; overrides <see cref="Epochs"/>.</summary>
    public long? MaxSteps { get; init; }
    /// <summary>Micro-batches whose gradients are summed (each loss divided by this) before one optimizer step.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>Clip the global gradient L2 norm to this value; null or ≤ 0 disables clipping.</summary>
    public double? MaxGradNorm { get; init; } = 1.0;
    /// <summary>The learning-rate schedule.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Linear;
    /// <summary>Warmup steps; when null, <see cref="WarmupRatio"/> of the total.</summary>
    public long? WarmupSteps { get; init; }
    /// <summary>Warmup as a fraction of the total steps (rounded up, as transformers does).</summary>
    public double WarmupRatio { get; init; }
    /// <summary>Evaluate every this many optimizer steps (0: only at the end, when an evaluator is given).</summary>
    public int EvalSteps { get; init; }
    /// <summary>Whether a larger evaluation metric is better (accuracy) rather than smaller (loss).</summary>
    public bool GreaterIsBetter { get; init; }
    /// <summary>Stop after this many evaluations without improvement; null disables early stopping.</summary>
    public int? EarlyStoppingPatience { get; init; }
    /// <summary>The improvement an evaluation must make over the best so far to count (transformers' threshold).</summary>
    public double EarlyStoppingThreshold { get; init; }
    /// <summary>
    /// Stop as soon as an evaluation reaches this metric (at least it when <see cref="GreaterIsBetter"/>, at most it
    /// otherwise); null trains to the end. The result then reports an early stop.
    /// </summary>
    public double? StopAtMetric { get; init; }
    /// <summary>Save a checkpoint every this many optimizer steps (0: never) under <see cref="OutputDirectory"/>.</summary>
    public int SaveSteps { get; init; }
    /// <summary>Where <c>checkpoint-STEP</c> folders go.</summary>
    public string? OutputDirectory { get; init; }
    /// <summary>Progress after every optimizer step.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }
    /// <summary>
    /// An extra term back-propagated once per optimizer step (Python adds AdapterFusion's value-matrix regularisation
    /// this way); see also <see cref="ITrainingRegularizer"/>.
    /// </summary>
    public Func<Tensor?>? RegularizationLoss { get; init; }

    /// <summary>
    /// Called after each optimizer step, before its gradients are cleared, with the 0-based index of that step (PEFT's
    /// AdaLoRA allocation goes here: <c>AfterOptimizerStep = peft.UpdateAndAllocate</c>). It runs without autograd.
    /// </summary>
    public Action<long>? AfterOptimizerStep { get; init; }
}
