using System.Text.Json;
using System.Text.Json.Nodes;
using Adapters.Core;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Serialization;
using Adapters.Testing;

namespace Adapters.Hub.Cli.Tests;

/// <summary>PEFT folders (fixtures/peft-task-models) through <c>summary</c>, <c>generate</c>, <c>inspect</c> and <c>convert-adapter --task-type</c>.</summary>
public sealed class PeftFolderCommandTests
{
    private static string BertSeqCls => TestPaths.Fixture("peft-task-models", "bert-seq-cls-lora");
    private static string Gpt2Bin => TestPaths.Fixture("peft-task-models", "gpt2-causal-lm-lora-bin");
    private static string BaseModel(string model) => TestPaths.Fixture("python-goldens", "peft", "models", model);

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Summary_loads_a_peft_sequence_classification_folder_onto_the_task_model()
    {
        var (exitCode, output, error) = await RunAsync("summary", "--model", BaseModel("bert"), "--load-adapter", BertSeqCls);

        Assert.True(exitCode == 0, error);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal($"loaded PEFT LORA adapter 'default' (task SEQ_CLS) from {BertSeqCls}: 0 missing, 0 unexpected keys", lines[0]);
        // 2 layers × query/value × (8·64 + 64·8) + the classifier copy 3·64 + 3.
        Assert.Equal("  4291 parameters on 4 modules: bert.encoder.layer.0.attention.self.query, bert.encoder.layer.0.attention.self.value, "
            + "bert.encoder.layer.1.attention.self.query, bert.encoder.layer.1.attention.self.value", lines[1]);
        Assert.StartsWith("trainable params: 4,291 || all params: ", lines[2], StringComparison.Ordinal);
        Assert.Equal(3, lines.Length);
    }

    [Fact]
    public async Task Summary_json_names_the_method_task_and_targets()
    {
        var (exitCode, output, error) = await RunAsync("summary", "--model", BaseModel("gpt2"), "--load-adapter", Gpt2Bin, "--json");

        Assert.True(exitCode == 0, error);
        var peft = JsonDocument.Parse(output).RootElement.GetProperty("peft").EnumerateArray().Single();
        Assert.Equal("LORA", peft.GetProperty("peftType").GetString());
        Assert.Equal("CAUSAL_LM", peft.GetProperty("taskType").GetString());
        Assert.Equal(6, peft.GetProperty("targets").GetArrayLength());
        Assert.Equal(0, peft.GetProperty("unexpectedKeys").GetArrayLength());
    }

    [Fact]
    public async Task Generate_runs_a_peft_bin_lora_and_merging_it_gives_the_same_tokens()
    {
        var plain = await RunAsync("generate", "--model", BaseModel("gpt2"), "--prompt-ids", "5,17,42", "--max-new-tokens", "8", "--json");
        var adapted = await RunAsync("generate", "--model", BaseModel("gpt2"), "--adapter", Gpt2Bin, "--prompt-ids", "5,17,42", "--max-new-tokens", "8", "--json");
        var merged = await RunAsync("generate", "--model", BaseModel("gpt2"), "--adapter", Gpt2Bin, "--merge", "--prompt-ids", "5,17,42", "--max-new-tokens", "8", "--json");

        Assert.True(adapted.ExitCode == 0, adapted.Error);
        Assert.True(merged.ExitCode == 0, merged.Error);
        var adaptedJson = JsonDocument.Parse(adapted.Output).RootElement;
        Assert.Equal("LORA", adaptedJson.GetProperty("peftType").GetString());
        Assert.Equal("default", adaptedJson.GetProperty("adapter").GetString());
        var tokens = adaptedJson.GetProperty("tokens").GetRawText();
        Assert.Equal(tokens, JsonDocument.Parse(merged.Output).RootElement.GetProperty("tokens").GetRawText());
        Assert.NotEqual(tokens, JsonDocument.Parse(plain.Output).RootElement.GetProperty("tokens").GetRawText());
    }

    [Fact]
    public async Task Generate_refuses_a_classification_adapter()
    {
        var (exitCode, _, error) = await RunAsync("generate", "--model", BaseModel("gpt2"), "--adapter", TestPaths.Fixture("peft-task-models", "gpt2-seq-cls-lora"), "--prompt-ids", "5");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("task_type \"SEQ_CLS\" is a classification adapter", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_names_the_peft_method_and_targets()
    {
        var (exitCode, output, error) = await RunAsync("inspect", BertSeqCls);

        Assert.True(exitCode == 0, error);
        var lines = output.Split('\n');
        Assert.Equal("peft:     LORA, task SEQ_CLS, base model models/bert, target_modules [\"query\",\"value\"]", lines[3]);
        Assert.StartsWith("          adapts 4 modules: bert.encoder.layer.0.attention.self.query, ", lines[4], StringComparison.Ordinal);
        Assert.Equal("          modules_to_save copies: classifier", lines[5]);

        (exitCode, output, error) = await RunAsync("inspect", Path.Combine(Gpt2Bin, "adapter_model.bin"), "--json");
        Assert.True(exitCode == 0, error);
        var peft = JsonDocument.Parse(output).RootElement.GetProperty("peft");
        Assert.Equal(
            ["transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_proj", "transformer.h.0.mlp.c_proj", "transformer.h.1.attn.c_attn", "transformer.h.1.attn.c_proj", "transformer.h.1.mlp.c_proj"],
            peft.GetProperty("targets").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(0, peft.GetProperty("modulesToSave").GetArrayLength());
    }

    [Fact]
    public async Task Inspect_of_a_plain_tensor_file_has_no_peft_section()
    {
        var (exitCode, output, error) = await RunAsync("inspect", Path.Combine(BaseModel("bert"), "model.safetensors"), "--json");

        Assert.True(exitCode == 0, error);
        Assert.False(JsonDocument.Parse(output).RootElement.TryGetProperty("peft", out _));
    }

    [Fact]
    public async Task Convert_adapter_writes_the_task_type_and_keys_under_the_task_model()
    {
        TorchRuntime.Initialize();
        var root = Directory.CreateTempSubdirectory("convert-task-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(root, "config.json"),
                """{"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 50, "max_position_embeddings": 16, "type_vocab_size": 2}""");
            using (var model = EncoderModels.Create(EncoderConfig.Read(Path.Combine(root, "config.json"))))
            {
                model.AddAdapter("sst2", "lora[r=4, alpha=8]");
                model.SaveAdapter(Path.Combine(root, "adapters"), "sst2");
            }
            var peft = Path.Combine(root, "peft");

            var (exitCode, output, error) = await RunAsync("convert-adapter", Path.Combine(root, "adapters"), peft, "--to", "peft", "--model", root, "--task-type", "SEQ_CLS", "--json");

            Assert.True(exitCode == 0, error);
            Assert.Equal("SEQ_CLS", JsonDocument.Parse(output).RootElement.GetProperty("taskType").GetString());
            Assert.Equal("SEQ_CLS", JsonNode.Parse(File.ReadAllText(Path.Combine(peft, "adapter_config.json")))!["task_type"]!.GetValue<string>());
            using var file = TensorFiles.Open(Path.Combine(peft, "adapter_model.safetensors"));
            Assert.All(file.Tensors, t => Assert.StartsWith("base_model.model.bert.encoder.layer.", t.Name, StringComparison.Ordinal));

            var bad = await RunAsync("convert-adapter", Path.Combine(root, "adapters"), Path.Combine(root, "x"), "--to", "peft", "--model", root, "--task-type", "CLASSIFY");
            Assert.NotEqual(0, bad.ExitCode);
            Assert.Contains("--task-type \"CLASSIFY\" is not one of PEFT's task types: SEQ_CLS, SEQ_2_SEQ_LM, CAUSAL_LM, TOKEN_CLS, QUESTION_ANS, FEATURE_EXTRACTION.", bad.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
