using System.Text.Json;
using System.Text.Json.Nodes;
using Adapters.Core;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Serialization;
using Adapters.Hub.Cli;
using static TorchSharp.torch;

namespace Adapters.Hub.Cli.Tests;

public sealed class ConvertAdapterCommandTests
{
    private const string Config = """{"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 50, "max_position_embeddings": 16, "type_vocab_size": 2}""";

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Adapters_to_peft_and_back_keeps_every_tensor()
    {
        TorchRuntime.Initialize();
        var root = Directory.CreateTempSubdirectory("convert-adapter-").FullName;
        File.WriteAllText(Path.Combine(root, "config.json"), Config);
        using var model = EncoderModels.Create(EncoderConfig.Read(Path.Combine(root, "config.json")));
        model.AddAdapter("sst2", "lora[r=4, alpha=16, intermediate_lora=True, init_weights='bert']");
        var original = Path.Combine(root, "adapters");
        model.SaveAdapter(original, "sst2");
        var peft = Path.Combine(root, "peft");
        var back = Path.Combine(root, "back");

        var (exitCode, output, error) = await RunAsync("convert-adapter", original, peft, "--to", "peft", "--model", root, "--json");

        Assert.True(exitCode == 0, error);
        using (var summary = JsonDocument.Parse(output))
        {
            Assert.Equal("LORA", summary.RootElement.GetProperty("kind").GetString());
            Assert.Equal("sst2", summary.RootElement.GetProperty("name").GetString());
        }
        var peftConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(peft, "adapter_config.json")))!;
        Assert.Equal(16, peftConfig["lora_alpha"]!.GetValue<int>());
        Assert.Equal(["query", "value", "intermediate.dense"], peftConfig["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()));

        (exitCode, output, error) = await RunAsync("convert-adapter", peft, back, "--to", "adapters", "--model", Path.Combine(root, "config.json"), "--name", "sst2");

        Assert.True(exitCode == 0, error);
        Assert.StartsWith($"wrote {back}: adapters lora adapter 'sst2', 12 tensors", output, StringComparison.Ordinal);
        using var reloaded = EncoderModels.Create(EncoderConfig.Read(Path.Combine(root, "config.json")));
        reloaded.LoadAdapter(back);
        var expected = model.GetAdapterStateDict("sst2");
        var actual = reloaded.GetAdapterStateDict("sst2");
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected) Assert.True(eq(tensor, actual[key]).all().item<bool>(), key);
        var config = Assert.IsAssignableFrom<LoRAConfig>(AdapterConfigFile.Read(Path.Combine(back, "adapter_config.json")).GetConfig());
        Assert.True(config is { R: 4, Alpha: 16, IntermediateLora: true, OutputLora: false, SelfattnLora: true, LeaveOut.Count: 0 });
        Assert.Equal(["q", "v"], config.AttnMatrices);
    }

    [Fact]
    public async Task Missing_model_and_unmappable_adapters_are_one_line_errors()
    {
        var root = Directory.CreateTempSubdirectory("convert-adapter-err-").FullName;
        File.WriteAllText(Path.Combine(root, "config.json"), Config);
        var peft = Path.Combine(root, "peft");
        Directory.CreateDirectory(peft);
        File.WriteAllText(Path.Combine(peft, "adapter_config.json"), """{"peft_type": "LORA", "r": 2, "lora_alpha": 2, "target_modules": ["dense"], "base_model_name_or_path": "bert-base-uncased"}""");
        TensorFiles.Save(Path.Combine(peft, "adapter_model.safetensors"), new Dictionary<string, Tensor> { ["base_model.model.pooler.dense.lora_A.weight"] = zeros(2, 32) });

        var (exitCode, _, error) = await RunAsync("convert-adapter", peft, Path.Combine(root, "out"), "--to", "adapters");
        Assert.Equal(1, exitCode);
        Assert.Contains("--model is needed", error, StringComparison.Ordinal);

        (exitCode, _, error) = await RunAsync("convert-adapter", peft, Path.Combine(root, "out"), "--to", "adapters", "--model", root);
        Assert.Equal(1, exitCode);
        Assert.Contains("'encoder.layer.0.attention.output.dense'", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData("""{"model_type": "llama", "vocab_size": 40, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 32}""",
        "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight")]
    [InlineData("""{"model_type": "gpt2", "vocab_size": 40, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 32}""",
        "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight")]
    public async Task Decoder_configs_convert_with_causal_lm_paths_and_back(string configJson, string expectedKey)
    {
        TorchRuntime.Initialize();
        var root = Directory.CreateTempSubdirectory("convert-decoder-").FullName;
        var configPath = Path.Combine(root, "config.json");
        File.WriteAllText(configPath, configJson);
        using var model = (TorchSharp.torch.nn.Module)DecoderModels.Create(configJson);
        var adapters = ((Adapters.Core.Generation.ICausalLM)model).BaseModel;
        adapters.AddAdapter("chat", "lora[r=4, alpha=8, intermediate_lora=True, init_weights='bert']");
        var original = Path.Combine(root, "adapters");
        adapters.SaveAdapter(original, "chat");
        var peft = Path.Combine(root, "peft");
        var back = Path.Combine(root, "back");

        var (exitCode, _, error) = await RunAsync("convert-adapter", original, peft, "--to", "peft", "--model", root);

        Assert.True(exitCode == 0, error);
        using (var file = TensorFiles.Open(Path.Combine(peft, "adapter_model.safetensors")))
            Assert.Contains(file.Tensors, t => t.Name == expectedKey);

        (exitCode, _, error) = await RunAsync("convert-adapter", peft, back, "--to", "adapters", "--model", configPath, "--name", "chat");

        Assert.True(exitCode == 0, error);
        using var reloaded = (TorchSharp.torch.nn.Module)DecoderModels.Create(configJson);
        var reloadedAdapters = ((Adapters.Core.Generation.ICausalLM)reloaded).BaseModel;
        reloadedAdapters.LoadAdapter(back);
        // GPT-2's q/v fused pair travels as one PEFT pair of rank 8 and is taken apart again on the way back.
        var expected = adapters.GetAdapterStateDict("chat");
        var actual = reloadedAdapters.GetAdapterStateDict("chat");
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected) Assert.True(eq(tensor, actual[key]).all().item<bool>(), key);
        var config = Assert.IsAssignableFrom<LoRAConfig>(AdapterConfigFile.Read(Path.Combine(back, "adapter_config.json")).GetConfig());
        Assert.True(config is { R: 4, Alpha: 8, IntermediateLora: true, SelfattnLora: true });
        Assert.Equal(["q", "v"], config.AttnMatrices);
    }
}
