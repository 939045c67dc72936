using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// What PEFT's <c>prompt_encoder[adapter]</c> computes for the virtual token ids <c>0..T−1</c>: the prompt
/// embeddings (prompt tuning, p-tuning; (T, token_dim)) or the flat prefix keys and values (prefix tuning;
/// (num_virtual_tokens, num_layers·2·token_dim)). PEFT saves exactly this output as <c>prompt_embeddings</c>, so
/// every encoder can be baked into a <see cref="PeftPromptEmbedding"/> of the same output.
/// </summary>
public abstract class PeftPromptEncoder : nn.Module
{
    /// <summary>Creates the encoder for <paramref name="config"/>.</summary>
    protected PeftPromptEncoder(string name, PeftPromptLearningConfig config) : base(name)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
    }

    /// <summary>Children are registered explicitly under PEFT's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The config this encoder was built for.</summary>
    public PeftPromptLearningConfig Config { get; }

    /// <summary>The encoder output for ids <c>0..rows−1</c>: (rows, width).</summary>
    public abstract Tensor Output();
}
