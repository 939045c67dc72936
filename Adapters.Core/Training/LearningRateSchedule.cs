namespace Adapters.Core.Training;

/// <summary>The learning-rate schedules of transformers' <c>get_scheduler</c> that adapter training uses.</summary>
public enum LearningRateSchedule
{
    /// <summary>Linear warmup, then linear decay to 0 at the last step (<c>"linear"</c>, the transformers default).</summary>
    Linear,
    /// <summary>Linear warmup, then half a cosine down to 0 (<c>"cosine"</c>).</summary>
    Cosine,
    /// <summary>Linear warmup, then constant (<c>"constant_with_warmup"</c>; plain constant when there is no warmup).</summary>
    Constant,
}

/// <summary>The multiplier on the base learning rate for an optimizer step, as transformers' LambdaLR schedules compute it.</summary>
public static class LearningRateScheduleFactor
{
    /// <summary>The factor for the update made at <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public static double At(LearningRateSchedule schedule, long step, long warmupSteps, long totalSteps)
    {
        if (step < warmupSteps) return (double)step / Math.Max(1, warmupSteps);
        var progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return schedule switch
        {
            LearningRateSchedule.Linear => Math.Max(0.0, (double)(totalSteps - step) / Math.Max(1, totalSteps - warmupSteps)),
            LearningRateSchedule.Cosine => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress))),
            _ => 1.0,
        };
    }
}
