using Microsoft.ML.Tokenizers;

namespace Adapters.Hub.Cli.Tokenization;

/// <summary>
/// The tokenizer files Microsoft.ML.Tokenizers reads: GPT-2's byte-level BPE (<c>vocab.json</c> + <c>merges.txt</c>,
/// no special tokens added, as GPT-2's tokenizer), SentencePiece <c>tokenizer.model</c> (BOS added, as Llama 1/2's)
/// and BERT's WordPiece <c>vocab.txt</c> (lower-cased, <c>[CLS] … [SEP]</c>).
/// </summary>
internal sealed class MlNetTokenizer : ModelTokenizer
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _addSpecialTokens;

    private MlNetTokenizer(Tokenizer tokenizer, string kind, bool addSpecialTokens)
    {
        _tokenizer = tokenizer;
        Kind = kind;
        _addSpecialTokens = addSpecialTokens;
    }

    /// <inheritdoc />
    public override string Kind { get; }

    /// <inheritdoc />
    public override int? PaddingTokenId => _tokenizer is BertTokenizer bert ? bert.PaddingTokenId : null;

    /// <summary>GPT-2's byte-level BPE.</summary>
    public static MlNetTokenizer LoadByteLevelBpe(string vocabJson, string merges)
    {
        using var vocabStream = File.OpenRead(vocabJson);
        using var mergesStream = File.OpenRead(merges);
        return new MlNetTokenizer(CodeGenTokenizer.Create(vocabStream, mergesStream, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false),
            "vocab.json+merges.txt (byte-level BPE)", addSpecialTokens: false);
    }

    /// <summary>A SentencePiece model (Llama 1/2, Mistral).</summary>
    public static MlNetTokenizer LoadSentencePiece(string model)
    {
        using var stream = File.OpenRead(model);
        return new MlNetTokenizer(LlamaTokenizer.Create(stream, addBeginOfSentence: true, addEndOfSentence: false),
            "tokenizer.model (SentencePiece)", addSpecialTokens: true);
    }

    /// <summary>BERT's lower-cased WordPiece.</summary>
    public static MlNetTokenizer LoadWordPiece(string vocabTxt) =>
        new(BertTokenizer.Create(vocabTxt, new BertOptions { LowerCaseBeforeTokenization = true }), "vocab.txt (WordPiece)", addSpecialTokens: true);

    /// <inheritdoc />
    public override IReadOnlyList<int> Encode(string text) => _tokenizer switch
    {
        BertTokenizer bert => bert.EncodeToIds(text, addSpecialTokens: _addSpecialTokens, considerPreTokenization: true, considerNormalization: true),
        _ => _tokenizer.EncodeToIds(text),
    };

    /// <inheritdoc />
    public override string Decode(IEnumerable<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var checkedIds = ids.Select(id => id is >= 0 and <= int.MaxValue
            ? (int)id
            : throw new ArgumentOutOfRangeException(nameof(ids), id, "Token ids are between 0 and 2^31-1.")).ToArray();
        return _tokenizer switch
        {
            BertTokenizer bert => bert.Decode(checkedIds, skipSpecialTokens: true) ?? string.Empty,
            _ => _tokenizer.Decode(checkedIds) ?? string.Empty,
        };
    }
}
