using static TorchSharp.torch;

namespace Adapters.Core.Generation;

/// <summary>Why a sequence stopped.</summary>
public enum FinishReason
{
    /// <summary><see cref="GenerationOptions.MaxNewTokens"/> tokens were generated.</summary>
    Length,
    /// <summary>A stop token (EOS) was generated; it is included in the tokens.</summary>
    StopToken,
    /// <summary>The decoded continuation reached a stop string.</summary>
    StopString,
}

/// <summary>The output of <see cref="TextGenerator.Generate"/>.</summary>
/// <param name="Sequences">(batch, prompt + generated) token ids; finished rows are padded with the pad (or last stop) id.</param>
/// <param name="NewTokens">Each sequence's generated tokens, up to and including its stop token.</param>
/// <param name="FinishReasons">Why each sequence stopped.</param>
/// <param name="StepLogits">With <see cref="GenerationOptions.KeepLogits"/>, each step's processed (batch, vocab) logits in float32; else empty.</param>
public sealed record GenerationResult(Tensor Sequences, IReadOnlyList<IReadOnlyList<long>> NewTokens, IReadOnlyList<FinishReason> FinishReasons,
    IReadOnlyList<Tensor> StepLogits);
