using Microsoft.ML.Tokenizers;

namespace Adapters.Hub.Cli.Generation;

/// <summary>
/// The tokenizer of a model folder through Microsoft.ML.Tokenizers 2.0.1: GPT-2's byte-level BPE from
/// <c>vocab.json</c> + <c>merges.txt</c> (<see cref="CodeGenTokenizer"/>, GPT-2's pre-tokenizer regex), or a
/// SentencePiece <c>tokenizer.model</c> (Llama 1/2, Mistral; <see cref="LlamaTokenizer"/>, BOS added). A folder with
/// only <c>tokenizer.json</c> is not supported: 2.0.1 has no reader for Hugging Face's tokenizer.json format.
/// </summary>
internal sealed class ModelTokenizer
{
    private readonly Tokenizer _tokenizer;

    private ModelTokenizer(Tokenizer tokenizer, string kind)
    {
        _tokenizer = tokenizer;
        Kind = kind;
    }

    /// <summary>Which files it was built from, for reports.</summary>
    public string Kind { get; }

    /// <summary>Loads the tokenizer of <paramref name="folder"/>, or returns null when the folder has none this port can read.</summary>
    /// <exception cref="InvalidDataException">Only a tokenizer.json is present.</exception>
    public static ModelTokenizer? Load(string folder)
    {
        var vocab = Path.Combine(folder, "vocab.json");
        var merges = Path.Combine(folder, "merges.txt");
        if (File.Exists(vocab) && File.Exists(merges))
        {
            using var vocabStream = File.OpenRead(vocab);
            using var mergesStream = File.OpenRead(merges);
            return new ModelTokenizer(CodeGenTokenizer.Create(vocabStream, mergesStream, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false), "vocab.json+merges.txt (byte-level BPE)");
        }
        var sentencePiece = Path.Combine(folder, "tokenizer.model");
        if (File.Exists(sentencePiece))
        {
            using var stream = File.OpenRead(sentencePiece);
            return new ModelTokenizer(LlamaTokenizer.Create(stream, addBeginOfSentence: true, addEndOfSentence: false), "tokenizer.model (SentencePiece)");
        }
        if (File.Exists(Path.Combine(folder, "tokenizer.json")))
            throw new InvalidDataException($"{folder} has only tokenizer.json, which Microsoft.ML.Tokenizers 2.0.1 cannot read; add vocab.json+merges.txt or tokenizer.model, or pass --prompt-ids.");
        return null;
    }

    /// <summary>The token ids of <paramref name="text"/>.</summary>
    public IReadOnlyList<int> Encode(string text) => _tokenizer.EncodeToIds(text);

    /// <summary>The text of <paramref name="ids"/>.</summary>
    public string Decode(IEnumerable<long> ids) => _tokenizer.Decode(ids.Select(id => (int)id)) ?? string.Empty;
}
