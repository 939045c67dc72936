namespace Adapters.Hub.Cli.Tokenization;

/// <summary>
/// The tokenizer of a Hugging Face model folder, chosen by the files the folder holds, in the order transformers'
/// fast tokenizers prefer them: <c>tokenizer.json</c> (any model Hugging Face's tokenizers library describes: Llama-3,
/// Qwen2, …), then GPT-2's <c>vocab.json</c> + <c>merges.txt</c>, a SentencePiece <c>tokenizer.model</c>
/// (Llama 1/2, Mistral) and a WordPiece <c>vocab.txt</c> (BERT).
/// </summary>
internal abstract class ModelTokenizer : IDisposable
{
    /// <summary>Which files it was built from, for reports.</summary>
    public abstract string Kind { get; }

    /// <summary>The id batches are right-padded with, where the tokenizer files name one (BERT's <c>[PAD]</c>).</summary>
    public virtual int? PaddingTokenId => null;

    /// <summary>
    /// The token ids of <paramref name="text"/>, with the special tokens the tokenizer adds to a single sequence
    /// (Llama's BOS), as Python's <c>tokenizer(text)["input_ids"]</c>.
    /// </summary>
    public abstract IReadOnlyList<int> Encode(string text);

    /// <summary>The text of <paramref name="ids"/>, special tokens left out.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative or beyond the vocabulary's id range.</exception>
    public abstract string Decode(IEnumerable<long> ids);

    /// <summary>Loads the tokenizer of <paramref name="folder"/>, or returns null when the folder holds none of the files above.</summary>
    /// <exception cref="InvalidDataException">The tokenizer file is malformed or too large.</exception>
    public static ModelTokenizer? Load(string folder)
    {
        var tokenizerJson = Path.Combine(folder, "tokenizer.json");
        if (File.Exists(tokenizerJson)) return TokenizerJsonTokenizer.FromFile(tokenizerJson);
        var vocabJson = Path.Combine(folder, "vocab.json");
        var merges = Path.Combine(folder, "merges.txt");
        if (File.Exists(vocabJson) && File.Exists(merges)) return MlNetTokenizer.LoadByteLevelBpe(vocabJson, merges);
        var sentencePiece = Path.Combine(folder, "tokenizer.model");
        if (File.Exists(sentencePiece)) return MlNetTokenizer.LoadSentencePiece(sentencePiece);
        var wordPiece = Path.Combine(folder, "vocab.txt");
        if (File.Exists(wordPiece)) return MlNetTokenizer.LoadWordPiece(wordPiece);
        return null;
    }

    /// <summary>Releases native resources the tokenizer holds.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the tokenizer holds.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
