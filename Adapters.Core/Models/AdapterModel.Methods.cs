using Adapters.Core.Configuration;
using Adapters.Core.Methods;
using Adapters.Core.Methods.PrefixTuning;
using Adapters.Core.Methods.PromptTuning;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>The per-pass adapter context, prompt tuning on the embeddings and prefix ejection: the hooks models call in their forward pass.</summary>
public abstract partial class AdapterModel
{
    /// <summary>
    /// Turns a text into the token ids the model's own tokenizer gives, special tokens included (Python calls
    /// <c>tokenizer(text)["input_ids"]</c>). Needed by prompt tuning with <c>prompt_init="from_string"</c>.
    /// </summary>
    public Func<string, IReadOnlyList<long>>? PromptTokenizer { get; set; }

    /// <summary>
    /// Whether the model's forward calls <see cref="ApplyPromptTuning"/> after its embeddings; prompt tuning is refused
    /// otherwise. A user's model that does overrides this with true.
    /// </summary>
    protected virtual bool SupportsPromptTuning => false;

    /// <summary>The word embedding matrix (vocab, H) that <c>prompt_init="from_string"</c> reads; null when the model has none.</summary>
    protected virtual Tensor? PromptWordEmbeddings => this is ITextEncoder encoder ? encoder.WordEmbeddings : null;

    /// <summary><see cref="SupportsPromptTuning"/>, for the prompt-tuning method.</summary>
    internal bool AppliesPromptTuning => SupportsPromptTuning;

    /// <summary><see cref="PromptWordEmbeddings"/>, for the prompt-tuning method.</summary>
    internal Tensor? PromptInitEmbeddings => PromptWordEmbeddings;

    /// <summary>
    /// Opens the per-forward adapter context of this model (Python's <c>ForwardContext</c>: prefix states shared by all
    /// layers, the attention mask ReFT reads, batch replication by Parallel, fusion attentions). Call at the start of
    /// the model's forward with the input mask (B, S) and dispose at the end.
    /// </summary>
    protected AdapterForwardContext BeginAdapterForward(Tensor? attentionMask) => Setup.BeginForward(attentionMask);

    /// <summary>
    /// Applies the first active adapter's prompt to the embedding output and puts the prompt's attended positions in
    /// front of the (B, S) mask, 1 = attend (also for <c>prefix_after_bos</c>, as Python does).
    /// </summary>
    protected (Tensor Hidden, Tensor? AttentionMask) ApplyPromptTuning(Tensor embeddings, Tensor? attentionMask)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (PromptTuningMethod.Layer(this) is not { } prompts) return (embeddings, attentionMask);
        var (hidden, length) = prompts.Forward(embeddings);
        if (length == 0 || attentionMask is null) return (hidden, attentionMask);
        var prompt = ones([attentionMask.shape[0], length], attentionMask.dtype, attentionMask.device);
        return (hidden, cat([prompt, attentionMask], 1));
    }

    /// <summary>
    /// Replaces the MLP that generates adapter <paramref name="name"/>'s prefixes by its output, as Python's
    /// <c>eject_prefix_tuning</c> does: the forward pass gives the same outputs, with far fewer parameters, and the
    /// stored config gets <c>flat=True</c> so that a saved adapter reloads with the flat layout.
    /// </summary>
    /// <exception cref="ArgumentException">The adapter has no prefix tuning.</exception>
    public void EjectPrefixTuning(string name) => _configs[name] = PrefixTuningMethod.Eject(this, name, GetAdapterConfig(name));

    /// <summary>A loaded key without the base prefix, mapped to the model's own key by every method's aliasing rule.</summary>
    private static string CanonicalAdapterKey(string unprefixedKey) =>
        AdapterMethodRegistry.Methods.Aggregate(unprefixedKey, (key, method) => method.CanonicalKey(key));
}
