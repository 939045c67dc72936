using static TorchSharp.torch;

namespace Adapters.Core.Heads;

/// <summary>
/// The classification vector of Python's decoder AdapterModels (GPT-2, Llama, Mistral, Qwen2): the hidden state at
/// index <c>count(input_ids != pad_token_id) - 1</c> of each row, or the last position when the model has no pad id.
/// As in Python the count assumes right padding; a row of only padding reads its last position.
/// </summary>
internal static class LastTokenPooling
{
    /// <summary>
    /// Selects one position per row of <paramref name="hidden"/> (B', S', H); a prompt in front (S' &gt; S) shifts the
    /// index, and a batch replicated by a Parallel setup (B' = k·B, copy after copy) repeats the row indices.
    /// </summary>
    public static Tensor Select(Tensor hidden, Tensor inputIds, long? padTokenId)
    {
        using var scope = NewDisposeScope();
        var length = inputIds.shape[1];
        var offset = hidden.shape[1] - length;
        var index = padTokenId is { } pad
            ? (inputIds.ne(pad).sum(-1) - 1 + length).remainder(length)
            : full([inputIds.shape[0]], length - 1, ScalarType.Int64, inputIds.device);
        var copies = hidden.shape[0] / inputIds.shape[0];
        if (copies * inputIds.shape[0] != hidden.shape[0])
            throw new ArgumentException($"The hidden states have {hidden.shape[0]} rows, not a multiple of the {inputIds.shape[0]} input rows.", nameof(hidden));
        if (copies > 1) index = index.repeat(copies);
        index = (index + offset).to(ScalarType.Int64).to(hidden.device).view(-1, 1, 1).expand(-1, 1, hidden.shape[2]);
        return hidden.gather(1, index).squeeze(1).MoveToOuterDisposeScope();
    }
}
