using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// What flows through a LoRA-family layer's composition (Python's <c>LoRAState</c>): the layer input, the running
/// contribution δ (null before the first module), the frozen layer output, and the last module applied, whose
/// <c>com</c> combines δ with the output.
/// </summary>
internal readonly record struct LoRAState(Tensor Input, Tensor? Delta, Tensor Output, string? Last)
{
    /// <summary>Rows <paramref name="start"/>..<paramref name="end"/> (Python's <c>vslice</c>).</summary>
    public LoRAState Rows(long start, long end) => new(
        Input.slice(0, start, end, 1), Delta is null ? null : BatchRows(Delta, Input.shape[0], start, end), Output.slice(0, start, end, 1), Last);

    /// <summary>Every tensor repeated <paramref name="copies"/> times along the batch (Python's <c>repeat</c>).</summary>
    public LoRAState Repeat(int copies) => new(
        Composition.ParallelBatch.Repeat(Input, copies),
        Delta is null || Delta.dim() < Input.dim() ? Delta : Composition.ParallelBatch.Repeat(Delta, copies),
        Composition.ParallelBatch.Repeat(Output, copies),
        Last);

    private static Tensor BatchRows(Tensor delta, long batch, long start, long end) =>
        delta.dim() > 0 && delta.shape[0] == batch && delta.dim() > 1 ? delta.slice(0, start, end, 1) : delta;
}
