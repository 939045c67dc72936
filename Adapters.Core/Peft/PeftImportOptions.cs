namespace Adapters.Core.Peft;

/// <summary>Choices for loading a PEFT adapter onto one of our models.</summary>
public sealed record PeftImportOptions
{
    /// <summary>
    /// With PEFT's <c>bias="all"</c> or <c>"lora_only"</c> the file holds trained base-layer biases, which no adapters
    /// adapter can hold. When set, they are written into the base model's layers as PEFT itself does on load; when not
    /// set (the default), such files are refused.
    /// </summary>
    public bool ApplyBiasToBaseModel { get; init; }

    /// <summary>Activate the adapter after loading.</summary>
    public bool SetActive { get; init; }
}
