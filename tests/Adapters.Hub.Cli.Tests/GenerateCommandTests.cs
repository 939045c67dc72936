using System.Text.Json;
using Adapters.Core.Configuration;
using Adapters.Core.Generation;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Serialization;
using Adapters.Hub.Cli;
using static TorchSharp.torch;

namespace Adapters.Hub.Cli.Tests;

public sealed class GenerateCommandTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static readonly Gpt2Config s_config = new() { VocabSize = 61, NPositions = 32, NEmbd = 32, NLayer = 2, NHead = 4, EosTokenId = 60, BosTokenId = 60 };

    /// <summary>A tiny GPT-2 folder with random weights and a byte-level BPE vocabulary of 61 entries.</summary>
    private static (string Folder, Gpt2LMHeadModel Model) TinyGpt2Folder()
    {
        Core.TorchRuntime.Initialize();
        manual_seed(4);
        var model = new Gpt2LMHeadModel(s_config);
        model.eval();
        var dir = Directory.CreateTempSubdirectory("generate-").FullName;
        PretrainedDecoders.Save(model, dir);
        var vocab = new Dictionary<string, int>();
        for (var c = 'a'; c <= 'z'; c++) vocab[c.ToString()] = vocab.Count;
        vocab["Ġ"] = vocab.Count;
        vocab["ab"] = vocab.Count;
        vocab["Ġab"] = vocab.Count;
        for (var c = 'c'; vocab.Count < 60; c++) vocab["Ġ" + c] = vocab.Count;
        vocab["<|endoftext|>"] = 60;
        File.WriteAllText(Path.Combine(dir, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(dir, "merges.txt"), "#version: 0.2\na b\nĠ ab\n");
        return (dir, model);
    }

    [Fact]
    public async Task Generates_greedily_from_a_gpt2_folder_with_its_tokenizer()
    {
        var (dir, model) = TinyGpt2Folder();
        using var _ = model;
        var (exitCode, output, error) = await RunAsync("generate", "--model", dir, "--prompt", "ab ab", "--max-new-tokens", "5", "--json");
        Assert.True(exitCode == 0, error);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(new long[] { 27, 28 }, root.GetProperty("promptTokens").EnumerateArray().Select(e => e.GetInt64()));
        using var prompt = tensor(new long[] { 27, 28 }).unsqueeze(0);
        var expected = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 5 }).NewTokens[0];
        Assert.Equal(expected, root.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt64()).ToArray());
        Assert.Equal("gpt2", root.GetProperty("modelType").GetString());
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_merged_lora_adapter_changes_the_continuation_as_in_the_library()
    {
        var (dir, model) = TinyGpt2Folder();
        using var _ = model;
        var adapterDir = Path.Combine(dir, "adapter");
        manual_seed(9);
        model.Transformer.AddAdapter("task", new LoRAConfig { R = 4, Alpha = 16, InitWeights = "bert", IntermediateLora = true });
        model.Transformer.SaveAdapter(adapterDir, "task");
        model.Transformer.SetActiveAdapters("task");
        model.Transformer.MergeAdapter("task");
        using var prompt = tensor(new long[] { 3, 14, 15 }).unsqueeze(0);
        var expected = TextGenerator.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 6, StopTokenIds = [] }, null);

        var (exitCode, output, error) = await RunAsync("generate", "--model", dir, "--adapter", adapterDir, "--merge", "--prompt-ids", "3,14,15", "--max-new-tokens", "6", "--json");
        Assert.True(exitCode == 0, error);
        using var doc = JsonDocument.Parse(output);
        var tokens = doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal(expected.NewTokens[0].Take(tokens.Length), tokens);
        Assert.Equal("task", doc.RootElement.GetProperty("adapter").GetString());
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Sampling_with_a_seed_is_reproducible_and_bad_input_is_one_error_line()
    {
        var (dir, model) = TinyGpt2Folder();
        model.Dispose();
        var first = await RunAsync("generate", "--model", dir, "--prompt-ids", "1,2", "--temperature", "1.3", "--top-k", "20", "--seed", "7", "--json");
        var second = await RunAsync("generate", "--model", dir, "--prompt-ids", "1,2", "--temperature", "1.3", "--top-k", "20", "--seed", "7", "--json");
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Equal(first.Output, second.Output.Replace(JsonTokensPerSecond(second.Output), JsonTokensPerSecond(first.Output)));
        var bad = await RunAsync("generate", "--model", dir, "--prompt-ids", "1,x");
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("error: --prompt-ids: \"x\" is not a token id.", bad.Error);
        Directory.Delete(dir, recursive: true);
    }

    private static string JsonTokensPerSecond(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return "\"tokensPerSecond\": " + doc.RootElement.GetProperty("tokensPerSecond").GetRawText();
    }
}
