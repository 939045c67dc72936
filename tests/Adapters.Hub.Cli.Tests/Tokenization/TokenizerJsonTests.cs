using Adapters.Hub.Cli.Tokenization;
using Adapters.Testing;

namespace Adapters.Hub.Cli.Tests.Tokenization;

/// <summary>
/// The tokenizer.json fixtures of fixtures/tokenizers (see its README) read through Hugging Face's tokenizers.
/// Both vocabularies put the 256 byte tokens at ids 0–255 in byte order (an unmerged byte b has id b), then the
/// trained merges; the expected ids below follow from those rules and are traced step by step by make_fixtures.py.
/// </summary>
public sealed class TokenizerJsonTests
{
    private static ModelTokenizer Load(string name) =>
        ModelTokenizer.Load(TestPaths.Fixture("tokenizers", name)) ?? throw new InvalidOperationException("no tokenizer in " + name);

    [Fact]
    public void Llama3_adds_its_bos_and_takes_whole_pretokens_from_the_vocabulary()
    {
        using var tokenizer = Load("llama3");
        Assert.StartsWith("tokenizer.json", tokenizer.Kind);
        // TemplateProcessing puts <|begin_of_text|> (556) first. The regex splits "Hello", " world", "!"; with
        // ignore_merges each whole byte-level pre-token found in the vocabulary is one id: Hello 311, Ġworld 357,
        // and "!" is byte 33.
        Assert.Equal([556, 311, 357, 33], tokenizer.Encode("Hello world!"));
        // " were" is not in the vocabulary, so the merges apply by rank: #7 Ġ+w, #9 e+r -> Ġw 263, er 265, e 101.
        // Numbers split in runs of at most three digits: "2024" -> "202" (371) + "4" (byte 52), "12345" -> "123" (306)
        // + "45" (374); " tokens" merges to Ġto 353 + kens 450 (merges #1, #16, #97, #167, #194).
        Assert.Equal([556, 376, 32, 371, 52, 354, 263, 265, 101, 32, 306, 374, 353, 450, 46], tokenizer.Encode("In 2024 there were 12345 tokens."));
        // No merge joins z, q or x: three byte ids.
        Assert.Equal([556, 122, 113, 120], tokenizer.Encode("zqx"));
        // The contraction alternatives come first in the regex: "I" 73, "'m" 360, " sure" 548; " they" is not in the
        // vocabulary, so merges #0 h+e, #1 Ġ+t, #3 Ġt+he give Ġthe 259 + y 121; then "'re" 361 and " right" 541.
        Assert.Equal([556, 73, 360, 548, 259, 121, 361, 541], tokenizer.Encode("I'm sure they're right"));
    }

    [Fact]
    public void Llama3_has_no_normalizer_so_a_decomposed_accent_stays_two_code_points()
    {
        using var tokenizer = Load("llama3");
        // "e" + U+0301 is bytes 101, 204, 129; no merge covers them. "\n\n" is one pre-token of two newline bytes.
        Assert.Equal([556, 99, 97, 102, 101, 204, 129, 10, 10, 110, 97, 195, 175, 118, 101], tokenizer.Encode("cafe\u0301\n\nnaïve"));
    }

    [Fact]
    public void Llama3_chat_template_special_tokens_are_single_ids_after_the_bos_the_template_adds()
    {
        using var tokenizer = Load("llama3");
        // The chat template's text starts with <|begin_of_text|>; encoded with special tokens, as Python's
        // tokenizer(text) does, the post-processor's BOS comes first, then the template's own (556, 556).
        // Special tokens match before the regex: <|start_header_id|> 558, "user" 486, <|end_header_id|> 559,
        // "\n\n" 10 10, "Hello" 311, <|eot_id|> 560.
        var ids = tokenizer.Encode("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>");
        Assert.Equal([556, 556, 558, 486, 559, 10, 10, 311, 560], ids);
        // Decoding leaves special tokens out and undoes the byte-level mapping.
        Assert.Equal("user\n\nHello", tokenizer.Decode(ids.Select(i => (long)i)));
        // Qwen2's markers are plain text to Llama-3: "<|" is bytes 60 124, and so on.
        Assert.Equal(23, tokenizer.Encode("<|im_start|>user\nHello<|im_end|>\n").Count);
    }

    [Fact]
    public void Qwen2_adds_no_bos_splits_every_digit_and_normalizes_to_nfc()
    {
        using var tokenizer = Load("qwen2");
        // Its own merges (trained with its regex): Hello 308, Ġworld 354, "!" 33; no post-processor template.
        Assert.Equal([308, 354, 33], tokenizer.Encode("Hello world!"));
        // \p{N} takes one digit at a time, so 2024 and 12345 are their ASCII bytes (50 48 50 52, 49 … 53).
        Assert.Equal([366, 32, 50, 48, 50, 52, 351, 263, 265, 101, 32, 49, 50, 51, 52, 53, 550, 46], tokenizer.Encode("In 2024 there were 12345 tokens."));
        // NFC composes e + U+0301 into é, bytes 195 169: the same ids as the composed text.
        Assert.Equal([99, 97, 102, 195, 169, 10, 10, 110, 97, 195, 175, 118, 101], tokenizer.Encode("cafe\u0301\n\nnaïve"));
        Assert.Equal(tokenizer.Encode("café\n\nnaïve"), tokenizer.Encode("cafe\u0301\n\nnaïve"));
    }

    [Fact]
    public void Qwen2_chat_markers_are_special_tokens()
    {
        using var tokenizer = Load("qwen2");
        // 555 trained entries (256 bytes + 299 merges), then <|endoftext|> 555, <|im_start|> 556, <|im_end|> 557.
        // <|im_start|> 556, "user" 476, "\n" 10, "Hello" 308, <|im_end|> 557, "\n" 10 — and no BOS.
        var ids = tokenizer.Encode("<|im_start|>user\nHello<|im_end|>\n");
        Assert.Equal([556, 476, 10, 308, 557, 10], ids);
        Assert.Equal("user\nHello\n", tokenizer.Decode(ids.Select(i => (long)i)));
        Assert.Equal("Hello world!", tokenizer.Decode([308, 354, 33]));
    }

    [Fact]
    public void Bad_tokenizer_files_and_ids_are_typed_errors_naming_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("tokenizer-json-").FullName;
        try
        {
            var path = Path.Combine(dir, "tokenizer.json");
            File.WriteAllText(path, "{\"model\": 3}");
            var error = Assert.Throws<InvalidDataException>(() => ModelTokenizer.Load(dir));
            Assert.Contains(path, error.Message);
            using var tokenizer = Load("qwen2");
            Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([-1]));
            Assert.Null(ModelTokenizer.Load(Path.Combine(dir, "none")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
