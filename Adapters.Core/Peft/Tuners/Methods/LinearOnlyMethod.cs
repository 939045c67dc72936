namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>A PEFT method that (in PEFT 0.14, among the layers this port has) adapts <c>nn.Linear</c> only.</summary>
internal abstract class LinearOnlyMethod : PeftTunerMethod
{
    private static readonly HashSet<PeftLayerKind> s_kinds = [PeftLayerKind.Linear];

    /// <inheritdoc />
    public override IReadOnlySet<PeftLayerKind> SupportedKinds => s_kinds;

    /// <inheritdoc />
    public override string SupportedText => "`torch.nn.Linear`, `torch.nn.Conv2d`";

    /// <summary>PEFT 0.14 also adapts Conv2d with these methods (Bone excepted); this port does not yet.</summary>
    public override IReadOnlySet<PeftLayerKind> UnportedKinds { get; } = new HashSet<PeftLayerKind> { PeftLayerKind.Conv2d };
}
