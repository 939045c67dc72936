using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.PromptTuning;

/// <summary>
/// One prompt (Python's <c>PromptTuning</c>): <c>prompt_embedding</c> = Embedding(prompt_length, H), initialised
/// U(−0.5, 0.5) (<c>random_uniform</c>) or from the word embeddings of the tokenized <c>prompt_init_text</c>, repeated
/// and truncated to the prompt length (<c>from_string</c>).
/// </summary>
public sealed class PromptTuningModule : nn.Module
{
    private readonly Embedding _embedding;

    /// <summary>Creates the prompt.</summary>
    /// <param name="config">The prompt config.</param>
    /// <param name="embeddingSize">The width of the model's embedding output.</param>
    /// <param name="wordEmbeddings">The model's word embedding matrix (vocab, H), read by <c>from_string</c>.</param>
    /// <param name="tokenizer">Turns <c>prompt_init_text</c> into the ids the model's tokenizer gives (special tokens included), for <c>from_string</c>.</param>
    /// <param name="device">Device of the parameters.</param>
    /// <param name="dtype">Type of the parameters.</param>
    /// <exception cref="AdapterConfigException">The init or combine mode is unknown, or <c>from_string</c> lacks a text, a tokenizer or word embeddings.</exception>
    public PromptTuningModule(PromptTuningConfig config, int embeddingSize, Tensor? wordEmbeddings, Func<string, IReadOnlyList<long>>? tokenizer,
        Device? device, ScalarType? dtype)
        : base(nameof(PromptTuningModule))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        if (config.PromptLength <= 0) throw new AdapterConfigException($"prompt_tuning prompt_length must be positive, got {config.PromptLength}.");
        if (config.Combine is not ("prefix" or "prefix_after_bos"))
            throw new AdapterConfigException($"Unknown prompt_tuning combine \"{config.Combine}\"; expected \"prefix\" or \"prefix_after_bos\".");
        _embedding = nn.Embedding(config.PromptLength, embeddingSize, device: device, dtype: dtype);
        using (no_grad())
        {
            switch (config.PromptInit)
            {
                case "random_uniform":
                    nn.init.uniform_(_embedding.weight!, -PromptTuningConfig.RandomUniformScale, PromptTuningConfig.RandomUniformScale);
                    break;
                case "from_string":
                    _embedding.weight!.copy_(EmbeddingsOfText(config, wordEmbeddings, tokenizer));
                    break;
                default:
                    throw new AdapterConfigException($"Unknown prompt_init \"{config.PromptInit}\"; expected \"random_uniform\" or \"from_string\".");
            }
        }
        register_module("prompt_embedding", _embedding);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The config.</summary>
    public PromptTuningConfig Config { get; }

    /// <summary>Inserts the prompt into the embedding output (B, S, H), giving (B, P + S, H).</summary>
    public Tensor Forward(Tensor embedded)
    {
        ArgumentNullException.ThrowIfNull(embedded);
        var positions = arange(Config.PromptLength, ScalarType.Int64, embedded.device);
        var prompt = _embedding.call(positions).unsqueeze(0).expand(embedded.shape[0], -1, -1).to(embedded.dtype);
        if (Config.Combine == "prefix") return cat([prompt, embedded], 1);
        var length = embedded.shape[1];
        return cat([embedded.narrow(1, 0, 1), prompt, embedded.narrow(1, 1, length - 1)], 1);
    }

    private static Tensor EmbeddingsOfText(PromptTuningConfig config, Tensor? wordEmbeddings, Func<string, IReadOnlyList<long>>? tokenizer)
    {
        if (config.PromptInitText is null)
            throw new AdapterConfigException("prompt_init \"from_string\" needs prompt_init_text.");
        if (tokenizer is null)
            throw new AdapterConfigException("prompt_init \"from_string\" needs a tokenizer; set AdapterModel.PromptTokenizer before adding the adapter.");
        if (wordEmbeddings is null)
            throw new AdapterConfigException("prompt_init \"from_string\" needs the model's word embeddings, and this model exposes none.");
        var ids = tokenizer(config.PromptInitText);
        if (ids.Count == 0) throw new AdapterConfigException($"The tokenizer returned no ids for prompt_init_text \"{config.PromptInitText}\".");
        // Python repeats the ids until they cover the prompt, then truncates.
        var repeated = Enumerable.Range(0, config.PromptLength).Select(i => ids[i % ids.Count]).ToArray();
        var vocab = wordEmbeddings.shape[0];
        foreach (var id in repeated)
        {
            if (id < 0 || id >= vocab)
                throw new AdapterConfigException($"Token id {id} from prompt_init_text is outside the vocabulary of {vocab}.");
        }
        using var index = tensor(repeated, ScalarType.Int64, wordEmbeddings.device);
        return wordEmbeddings.detach().index_select(0, index).to(ScalarType.Float32);
    }
}
