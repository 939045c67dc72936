using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// PEFT's <c>PromptEmbedding</c> (prompt tuning) and the encoder every prompt-learning method is reduced to in
/// inference mode: a single <c>embedding</c> (rows, width) whose weight is the output. Prompt tuning's RANDOM init is
/// <c>nn.Embedding</c>'s N(0, 1); TEXT init copies word-embedding rows.
/// </summary>
public sealed class PeftPromptEmbedding : PeftPromptEncoder
{
    private readonly Embedding _embedding;

    /// <summary>Creates an embedding of <paramref name="rows"/> × <paramref name="width"/>, drawn N(0, 1).</summary>
    public PeftPromptEmbedding(PeftPromptLearningConfig config, long rows, long width, Device? device, ScalarType? dtype)
        : base(nameof(PeftPromptEmbedding), config)
    {
        _embedding = nn.Embedding(rows, width, device: device, dtype: dtype);
        register_module("embedding", _embedding);
    }

    /// <summary>The embedding matrix (rows, width).</summary>
    public Parameter Weight => _embedding.weight!;

    /// <inheritdoc />
    public override Tensor Output() => _embedding.weight!;
}
