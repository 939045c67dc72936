using System.Globalization;
using Tokenizers.DotNet;

namespace Adapters.Hub.Cli.Tokenization;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> read by Hugging Face's own Rust tokenizers library (through
/// Tokenizers.DotNet), so normalizers, pre-tokenizer regexes, BPE/WordPiece/Unigram models, added and special tokens
/// and post-processors (Llama-3's BOS template) behave exactly as in Python's <c>tokenizers</c>.
/// </summary>
internal sealed class TokenizerJsonTokenizer : ModelTokenizer
{
    /// <summary>The largest tokenizer.json read; real ones (Llama-3, Qwen2, Gemma) are 7–35 MB.</summary>
    public const long MaxFileBytes = 256L * 1024 * 1024;

    private readonly Tokenizer _tokenizer;

    private TokenizerJsonTokenizer(Tokenizer tokenizer) => _tokenizer = tokenizer;

    /// <inheritdoc />
    public override string Kind => "tokenizer.json (Hugging Face tokenizers)";

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is larger than <see cref="MaxFileBytes"/> or not a tokenizer the library accepts.</exception>
    public static TokenizerJsonTokenizer FromFile(string path)
    {
        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path} is {length} bytes; a tokenizer.json of at most {MaxFileBytes} bytes was expected."));
        try
        {
            return new TokenizerJsonTokenizer(new Tokenizer(path));
        }
        catch (TokenizerException e)
        {
            throw new InvalidDataException($"{path} is not a tokenizer.json Hugging Face's tokenizers can read: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public override IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = _tokenizer.Encode(text);
        var result = new int[ids.Length];
        for (var i = 0; i < ids.Length; i++) result[i] = checked((int)ids[i]);
        return result;
    }

    /// <inheritdoc />
    public override string Decode(IEnumerable<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var native = ids.Select(id => id is >= 0 and <= int.MaxValue
            ? (uint)id
            : throw new ArgumentOutOfRangeException(nameof(ids), id, "Token ids are between 0 and 2^31-1.")).ToArray();
        return _tokenizer.Decode(native);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _tokenizer.Dispose();
    }
}
