namespace Adapters.Core.Peft;

/// <summary>
/// One PEFT method as <see cref="PeftMethodRegistry"/> knows it, keyed by its <c>peft_type</c>. Tuner methods
/// (<see cref="Tuners.PeftTunerMethod"/>) wrap target modules of a model; prompt-learning methods register their own
/// subclass.
/// </summary>
public abstract class PeftMethod
{
    /// <summary>PEFT's <c>peft_type</c>, e.g. "LORA".</summary>
    public abstract string PeftType { get; }

    /// <summary>The config fields PEFT 0.14 defines for this method (besides the common ones); others are kept and warned about.</summary>
    public abstract IReadOnlySet<string> KnownFields { get; }
}
