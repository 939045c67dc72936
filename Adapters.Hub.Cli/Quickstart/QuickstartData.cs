using System.Globalization;
using Adapters.Hub.Cli.Tokenization;
using static TorchSharp.torch;

namespace Adapters.Hub.Cli.Quickstart;

/// <summary>One labelled sentence of the bundled toy sentiment set.</summary>
internal sealed record SentimentExample(string Text, int Label);

/// <summary>
/// The bundled quickstart files (<c>fixtures/quickstart/</c>, copied next to the tool): the tiny BERT config, its
/// WordPiece vocabulary and the train/test sentiment splits, plus the tokenizer that turns sentences into batches
/// (the folder's tokenizer as <see cref="ModelTokenizer.Load"/> chooses it).
/// </summary>
internal sealed class QuickstartData
{
    /// <summary>Label names by id; the order is the head's <c>label2id</c>.</summary>
    public static readonly IReadOnlyList<string> Labels = ["negative", "positive"];

    private readonly ModelTokenizer _tokenizer;
    private readonly int _paddingTokenId;

    private QuickstartData(string directory, ModelTokenizer tokenizer, int paddingTokenId, IReadOnlyList<SentimentExample> train, IReadOnlyList<SentimentExample> test)
    {
        Directory = directory;
        _tokenizer = tokenizer;
        _paddingTokenId = paddingTokenId;
        Train = train;
        Test = test;
    }

    /// <summary>The folder the files were read from.</summary>
    public string Directory { get; }

    /// <summary>Path of the BERT <c>config.json</c>.</summary>
    public string ConfigPath => Path.Combine(Directory, "config.json");

    /// <summary>Path of the vocabulary.</summary>
    public string VocabPath => Path.Combine(Directory, "vocab.txt");

    /// <summary>The training split.</summary>
    public IReadOnlyList<SentimentExample> Train { get; }

    /// <summary>The held-out split.</summary>
    public IReadOnlyList<SentimentExample> Test { get; }

    /// <summary>Tokens in the vocabulary.</summary>
    public int VocabularySize => File.ReadLines(VocabPath).Count(l => l.Length > 0);

    /// <summary>The folder shipped with the tool: <c>fixtures/quickstart</c> next to the assembly.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "fixtures", "quickstart");

    /// <summary>Reads the bundled files from <paramref name="directory"/>.</summary>
    /// <exception cref="FileNotFoundException">A bundled file is missing.</exception>
    /// <exception cref="InvalidDataException">A data line is not <c>label&lt;TAB&gt;text</c> with a known label.</exception>
    public static QuickstartData Load(string directory)
    {
        foreach (var name in new[] { "config.json", "vocab.txt", "train.tsv", "test.tsv" })
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path)) throw new FileNotFoundException($"The quickstart file '{path}' is missing; the tool's fixtures/quickstart folder is incomplete.", path);
        }
        var tokenizer = ModelTokenizer.Load(directory)
            ?? throw new InvalidDataException($"The quickstart folder '{directory}' has no tokenizer files.");
        if (tokenizer.PaddingTokenId is not { } padding)
        {
            var kind = tokenizer.Kind;
            tokenizer.Dispose();
            throw new InvalidDataException($"The quickstart tokenizer in '{directory}' ({kind}) names no padding token.");
        }
        return new QuickstartData(Path.GetFullPath(directory), tokenizer, padding,
            ReadSplit(Path.Combine(directory, "train.tsv")), ReadSplit(Path.Combine(directory, "test.tsv")));
    }

    /// <summary>
    /// Tokenizes <paramref name="texts"/> with <c>[CLS] … [SEP]</c>, right-padded with <c>[PAD]</c> to the longest;
    /// returns token ids and the attention mask (1 for real tokens), both int64 (B, S).
    /// </summary>
    public (Tensor InputIds, Tensor AttentionMask) Encode(IReadOnlyList<string> texts)
    {
        var encoded = texts.Select(_tokenizer.Encode).ToList();
        var length = encoded.Max(e => e.Count);
        var ids = new long[texts.Count * length];
        var mask = new long[texts.Count * length];
        Array.Fill(ids, _paddingTokenId);
        for (var row = 0; row < encoded.Count; row++)
        {
            for (var column = 0; column < encoded[row].Count; column++)
            {
                ids[row * length + column] = encoded[row][column];
                mask[row * length + column] = 1;
            }
        }
        return (tensor(ids, [texts.Count, length]), tensor(mask, [texts.Count, length]));
    }

    private static List<SentimentExample> ReadSplit(string path)
    {
        var examples = new List<SentimentExample>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (lineNumber == 1 || line.Length == 0) continue;
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            var label = tab < 0 ? -1 : IndexOfLabel(line[..tab]);
            if (label < 0)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{path}:{lineNumber}: expected 'positive' or 'negative', a tab, then the sentence."));
            examples.Add(new SentimentExample(line[(tab + 1)..], label));
        }
        if (examples.Count == 0) throw new InvalidDataException($"{path} holds no sentences.");
        return examples;
    }

    private static int IndexOfLabel(string label)
    {
        for (var i = 0; i < Labels.Count; i++)
            if (Labels[i] == label) return i;
        return -1;
    }
}
