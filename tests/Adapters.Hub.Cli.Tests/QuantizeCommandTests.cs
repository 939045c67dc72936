using System.Text.Json;
using Adapters.Core.Generation;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Quantization;
using Adapters.Core.Serialization;
using Adapters.Hub.Cli;
using static TorchSharp.torch;

namespace Adapters.Hub.Cli.Tests;

/// <summary><c>--quantize nf4|fp4</c> on <c>summary</c> and <c>generate</c>, and <c>inspect</c> on bitsandbytes 4-bit files.</summary>
public sealed class QuantizeCommandTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static string TinyBertConfig()
    {
        var dir = Directory.CreateTempSubdirectory("quantize-").FullName;
        File.WriteAllText(Path.Combine(dir, "config.json"),
            """{"model_type": "bert", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100, "max_position_embeddings": 32, "type_vocab_size": 2}""");
        return dir;
    }

    [Fact]
    public async Task Summary_quantizes_the_base_and_keeps_pythons_counts()
    {
        var dir = TinyBertConfig();
        var dense = await RunAsync("summary", "--model", dir, "--adapter", "lora[r=4, alpha=8]");
        var (exitCode, output, error) = await RunAsync("summary", "--model", dir, "--adapter", "lora[r=4, alpha=8]", "--quantize", "nf4");

        Assert.True(exitCode == 0, error);
        var lines = output.TrimEnd().Split('\n');
        // 2 layers × (q, k, v, attention output, intermediate, output); 4-bit with double quantization is ~4.1 bits of 16.
        Assert.StartsWith("4-bit base: 12 projections in nf4 (blocksize 64, double quantization), ", lines[0], StringComparison.Ordinal);
        Assert.Equal(dense.Output.TrimEnd().Split('\n'), lines.Skip(1));
        var bad = await RunAsync("summary", "--model", dir, "--quantize", "int8");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--quantize \"int8\" is not nf4 or fp4.", bad.Error);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Generate_runs_on_a_4bit_base_as_the_library_does()
    {
        Core.TorchRuntime.Initialize();
        manual_seed(4);
        using var model = new Gpt2LMHeadModel(new Gpt2Config { VocabSize = 61, NPositions = 32, NEmbd = 32, NLayer = 2, NHead = 4, EosTokenId = 60, BosTokenId = 60 });
        model.eval();
        var dir = Directory.CreateTempSubdirectory("quantize-gen-").FullName;
        PretrainedDecoders.Save(model, dir);
        model.Transformer.QuantizeBaseWeights(FourBitOptions.Fp4);
        using var prompt = tensor(new long[] { 3, 14, 15 }).unsqueeze(0);
        var expected = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 6, StopTokenIds = [] }, null);

        var (exitCode, output, error) = await RunAsync("generate", "--model", dir, "--quantize", "fp4", "--prompt-ids", "3,14,15", "--max-new-tokens", "6", "--json");

        Assert.True(exitCode == 0, error);
        using var doc = JsonDocument.Parse(output);
        var tokens = doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal(expected.NewTokens[0].Take(tokens.Length), tokens);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Inspect_describes_bitsandbytes_4bit_weights_and_their_state()
    {
        var file = Adapters.Testing.TestPaths.Fixture("quantization", "llama_gqa_nf4", "model.safetensors");

        var (exitCode, output, error) = await RunAsync("inspect", file, "--json");

        Assert.True(exitCode == 0, error);
        using var doc = JsonDocument.Parse(output);
        var notes = doc.RootElement.GetProperty("tensors").EnumerateArray()
            .ToDictionary(t => t.GetProperty("name").GetString()!, t => t.TryGetProperty("fourBit", out var n) ? n.GetString() : null);
        Assert.Equal("bitsandbytes nf4 4-bit weight of shape [64, 64] (float32), blocksize 64, double quantization (blocksize 256)", notes["layers.0.self_attn.q_proj.weight"]);
        Assert.Equal("bitsandbytes 4-bit state of 'layers.1.mlp.down_proj.weight'", notes["layers.1.mlp.down_proj.weight.nested_absmax"]);
        Assert.Null(notes["embed_tokens.weight"]);
        Assert.Equal(14 * 6, notes.Values.Count(n => n is not null));
    }
}
