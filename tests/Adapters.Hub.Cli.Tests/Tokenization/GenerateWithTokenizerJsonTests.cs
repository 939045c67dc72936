using System.Text.Json;
using Adapters.Core.Generation;
using Adapters.Core.Models.Llama;
using Adapters.Core.Serialization;
using Adapters.Testing;
using static TorchSharp.torch;

namespace Adapters.Hub.Cli.Tests.Tokenization;

/// <summary><c>generate --prompt</c> on tiny Llama-shaped folders whose only tokenizer is a fixture tokenizer.json.</summary>
public sealed class GenerateWithTokenizerJsonTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Theory]
    // Llama-3: BOS 556 then Hello 311, Ġworld 357, "!" 33 (see TokenizerJsonTests); vocabulary 556 + 5 specials.
    [InlineData("llama", "llama3", 561, 556L, 560L, new long[] { 556, 311, 357, 33 })]
    // Qwen2: no BOS; Hello 308, Ġworld 354, "!" 33; vocabulary 555 + 3 specials, <|im_end|> 557 ends a turn.
    [InlineData("qwen2", "qwen2", 558, null, 557L, new long[] { 308, 354, 33 })]
    public async Task Generate_encodes_the_prompt_with_tokenizer_json_and_decodes_the_continuation(
        string modelType, string fixture, int vocabSize, long? bos, long eos, long[] expectedPrompt)
    {
        Core.TorchRuntime.Initialize();
        manual_seed(11);
        var config = new LlamaConfig
        {
            ModelType = modelType, VocabSize = vocabSize, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2,
            NumAttentionHeads = 4, NumKeyValueHeads = 2, MaxPositionEmbeddings = 64, BosTokenId = bos, EosTokenIds = [eos],
        };
        using var model = new LlamaForCausalLM(config);
        model.eval();
        var dir = Directory.CreateTempSubdirectory("generate-tokenizer-json-").FullName;
        try
        {
            PretrainedDecoders.Save(model, dir);
            File.Copy(TestPaths.Fixture("tokenizers", fixture, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));

            var (exitCode, output, error) = await RunAsync("generate", "--model", dir, "--prompt", "Hello world!", "--max-new-tokens", "6", "--json");
            Assert.True(exitCode == 0, error);
            using var doc = JsonDocument.Parse(output);
            var root = doc.RootElement;
            Assert.Equal(expectedPrompt, root.GetProperty("promptTokens").EnumerateArray().Select(e => e.GetInt64()));
            using var prompt = tensor(expectedPrompt).unsqueeze(0);
            var expected = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 6 }).NewTokens[0];
            var tokens = root.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(expected, tokens);
            Assert.Equal(modelType, root.GetProperty("modelType").GetString());
            // The completion is the byte-level decoding of the generated ids, special tokens left out.
            using var tokenizer = Cli.Tokenization.ModelTokenizer.Load(dir)!;
            Assert.Equal(tokenizer.Decode(tokens), root.GetProperty("completion").GetString());
            var (_, text, _) = await RunAsync("generate", "--model", dir, "--prompt", "Hello world!", "--max-new-tokens", "6");
            Assert.StartsWith("Hello world!" + tokenizer.Decode(tokens), text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
