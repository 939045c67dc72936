namespace Adapters.Core.Peft.Tuners;

/// <summary>Which PEFT adapters run, shared by every tuner layer of one <see cref="PeftTunerModel"/>.</summary>
public sealed class PeftAdapterState
{
    /// <summary>The active adapters, in the order PEFT applies them.</summary>
    public IReadOnlyList<string> Active { get; internal set; } = [];

    /// <summary>Whether adapters are disabled (PEFT's <c>disable_adapter()</c> scope): layers return the base output.</summary>
    public bool Disabled { get; internal set; }
}
