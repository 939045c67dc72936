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

    /// <summary>Rows <paramref name="index"/> in that order (Python's <c>vslice</c> with an index tensor).</summary>
    public LoRAState SelectRows(Tensor index)
    {
        var rows = index.to(Input.device);
        return new(Input.index_select(0, rows),
            Delta is not null && IsBatched(Delta, Input.shape[0]) ? Delta.index_select(0, rows) : Delta,
            Output.index_select(0, rows), Last);
    }

    /// <summary>Every tensor repeated <paramref name="copies"/> times along the batch (Python's <c>repeat</c>).</summary>
    public LoRAState Repeat(int copies) => new(
        Composition.ParallelBatch.Repeat(Input, copies),
        Delta is null || Delta.dim() < Input.dim() ? Delta : Composition.ParallelBatch.Repeat(Delta, copies),
        Composition.ParallelBatch.Repeat(Output, copies),
        Last);

    private static Tensor BatchRows(Tensor delta, long batch, long start, long end) =>
        IsBatched(delta, batch) ? delta.slice(0, start, end, 1) : delta;

    // An IA³ contribution is a broadcast vector with no batch axis; a LoRA contribution has one row per input row.
    private static bool IsBatched(Tensor delta, long batch) => delta.dim() > 1 && delta.shape[0] == batch;
}
