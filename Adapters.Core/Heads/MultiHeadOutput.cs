using static TorchSharp.torch;

namespace Adapters.Core.Heads;

/// <summary>
/// The outputs of several heads run in one pass (Python's <c>MultiHeadOutput</c>), in head order.
/// </summary>
/// <param name="Heads">The head names.</param>
/// <param name="Logits">Each head's logits, on the rows routed to it.</param>
/// <param name="Losses">Each head's loss on its labels; null entries when no labels were given.</param>
/// <param name="Loss">
/// The combined loss: the sum over heads for BatchSplit and Parallel setups (Python sums them), the head's own loss
/// for a single head, null for several heads on the same rows or without labels.
/// </param>
public sealed record MultiHeadOutput(IReadOnlyList<string> Heads, IReadOnlyList<Tensor> Logits, IReadOnlyList<Tensor?> Losses, Tensor? Loss);
