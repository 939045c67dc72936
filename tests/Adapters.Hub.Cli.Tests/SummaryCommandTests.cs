using System.Text.Json;
using Adapters.Hub.Cli;

namespace Adapters.Hub.Cli.Tests;

public sealed class SummaryCommandTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static string TinyConfigFolder()
    {
        var dir = Directory.CreateTempSubdirectory("summary-").FullName;
        File.WriteAllText(Path.Combine(dir, "config.json"),
            """{"model_type": "bert", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100, "max_position_embeddings": 32, "type_vocab_size": 2}""");
        return dir;
    }

    [Fact]
    public async Task Loads_a_python_written_adapter_folder_and_reports_its_keys()
    {
        var adapter = Adapters.Testing.TestPaths.Fixture("python-written", "AnHu2410__MD_crosslingual", "adapter");
        var dir = Directory.CreateTempSubdirectory("summary-mbert-").FullName;
        File.WriteAllText(Path.Combine(dir, "config.json"),
            """{"model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072, "vocab_size": 16, "max_position_embeddings": 16, "type_vocab_size": 2}""");

        var (exitCode, output, error) = await RunAsync("summary", "--model", dir, "--load-adapter", adapter);

        Assert.True(exitCode == 0, error);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal($"loaded 'md' from {adapter}: 0 missing, 0 unexpected keys", lines[0]);
        // MANIFEST A2: 12 layers × (48·768 + 48 + 768·48 + 768).
        Assert.Contains(lines, l => l.StartsWith("md                       bottleneck          894,528", StringComparison.Ordinal));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Prints_pythons_summary_table_for_config_strings()
    {
        var dir = TinyConfigFolder();

        var (exitCode, output, error) = await RunAsync("summary", "--model", dir, "--adapter", "lora[r=4, alpha=8]", "--adapter", "task=seq_bn");

        Assert.True(exitCode == 0, error);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal(new string('=', 80), lines[0]);
        Assert.Equal("Name                     Architecture         #Param      %Param  Active   Train", lines[1]);
        // lora r=4 on q and v: 2 layers × 2 × (4·64 + 64·4) = 2,048; seq_bn: 2 × ((64·4+4) + (4·64+64)) = 1,160.
        Assert.StartsWith("lora                     lora                  2,048", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("task                     bottleneck            1,160", lines[4], StringComparison.Ordinal);
        Assert.StartsWith("Full model", lines[6], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accepts_every_prefix_prompt_reft_and_union_alias()
    {
        var dir = TinyConfigFolder();
        // H=64, 2 layers, 4 heads. prefix: 30·64 + (64·512+512) + (512·256+256); flat: 30·2·2·64; prompt: 10·64;
        // ReFT: 2 layers · 2 units · (64+1+64); mam: prefix(800) 258,976 + par_bn 8,384;
        // unipelt: prefix(P=10) 165,248 + 2 prefix gates·65 + seq_bn 1,160 + 2·65 + LoRA 4,096 + 4·65.
        var expected = new (string Spec, string Name, string Architecture, string Count)[]
        {
            ("prefix_tuning", "prefix_tuning", "prefix_tuning", "166,528"),
            ("prefix_tuning_flat", "prefix_tuning_flat", "prefix_tuning", "7,680"),
            ("prompt_tuning", "prompt_tuning", "prompt_tuning", "640"),
            ("loreft", "loreft", "reft", "516"),
            ("noreft", "noreft", "reft", "516"),
            ("direft", "direft", "reft", "516"),
            ("mam", "mam", "union", "267,360"),
            ("unipelt", "unipelt", "union", "171,024"),
            ("both=lora[r=8]|prefix_tuning", "both", "union", "170,624"),
        };
        var args = new List<string> { "summary", "--model", dir };
        foreach (var (spec, _, _, _) in expected) args.AddRange(["--adapter", spec]);

        var (exitCode, output, error) = await RunAsync(args.ToArray());

        Assert.True(exitCode == 0, error);
        var lines = output.TrimEnd().Split('\n');
        foreach (var (_, name, architecture, count) in expected)
        {
            var row = Assert.Single(lines, l => l.StartsWith(name.PadRight(25), StringComparison.Ordinal));
            Assert.Equal(architecture, row.Substring(25, 15).Trim());
            Assert.Equal(count, row.Substring(40, 12).Trim());
        }
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Json_lists_rows()
    {
        var dir = TinyConfigFolder();

        var (exitCode, output, error) = await RunAsync("summary", "--model", Path.Combine(dir, "config.json"), "--adapter", "ia3", "--json");

        Assert.True(exitCode == 0, error);
        using var doc = JsonDocument.Parse(output);
        var rows = doc.RootElement.GetProperty("rows");
        Assert.Equal("ia3", rows[0].GetProperty("name").GetString());
        Assert.Equal(2 * (64 + 64 + 128), rows[0].GetProperty("parameterCount").GetInt64());
    }

    [Fact]
    public async Task Bad_config_string_is_one_line_error()
    {
        var dir = TinyConfigFolder();

        var (exitCode, _, error) = await RunAsync("summary", "--model", dir, "--adapter", "lora[r=oops]");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Summarises_lora_on_gpt2_and_llama_configs()
    {
        var gpt2 = Directory.CreateTempSubdirectory("summary-gpt2-").FullName;
        File.WriteAllText(Path.Combine(gpt2, "config.json"),
            """{"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100, "n_positions": 32}""");
        var (exitCode, output, error) = await RunAsync("summary", "--model", gpt2, "--adapter", "lora[r=4]", "--json");
        Assert.True(exitCode == 0, error);
        using (var doc = JsonDocument.Parse(output))
        {
            Assert.Equal("gpt2", doc.RootElement.GetProperty("modelType").GetString());
            // Fused c_attn, q and v: 2 layers × (A 8×64 + B 128×4).
            Assert.Equal(2 * (8 * 64 + 128 * 4), doc.RootElement.GetProperty("rows")[0].GetProperty("parameterCount").GetInt64());
        }

        var llama = Directory.CreateTempSubdirectory("summary-llama-").FullName;
        File.WriteAllText(Path.Combine(llama, "config.json"),
            """{"model_type": "llama", "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100}""");
        (exitCode, output, error) = await RunAsync("summary", "--model", llama, "--adapter", "lora[r=4, intermediate_lora=True]");
        Assert.True(exitCode == 0, error);
        // q: 4·(64+64); v: 4·(64+32); intermediate = down_proj: 4·(96+64); per layer 1,536.
        Assert.Contains(output.Split('\n'), l => l.StartsWith("lora                     lora                  3,072", StringComparison.Ordinal));
        Directory.Delete(gpt2, recursive: true);
        Directory.Delete(llama, recursive: true);
    }

    [Fact]
    public async Task A_config_file_not_named_config_json_is_the_model_summarised_not_its_folders_config_json()
    {
        // The folder's config.json has 2 layers; the file passed has 3. Before the model factory, summary read the
        // sibling config.json and printed the 2-layer counts for the 3-layer config.
        var dir = TinyConfigFolder();
        var other = Path.Combine(dir, "bert-3-layers.json");
        File.WriteAllText(other,
            """{"model_type": "bert", "hidden_size": 64, "num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100, "max_position_embeddings": 32, "type_vocab_size": 2}""");

        var (exitCode, output, error) = await RunAsync("summary", "--model", other, "--adapter", "ia3", "--json");

        Assert.True(exitCode == 0, error);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(3 * (64 + 64 + 128), doc.RootElement.GetProperty("rows")[0].GetProperty("parameterCount").GetInt64());
        (exitCode, output, error) = await RunAsync("summary", "--model", dir, "--adapter", "ia3", "--json");
        Assert.True(exitCode == 0, error);
        using var folder = JsonDocument.Parse(output);
        Assert.Equal(2 * (64 + 64 + 128), folder.RootElement.GetProperty("rows")[0].GetProperty("parameterCount").GetInt64());
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_folder_without_config_json_is_not_found()
    {
        var dir = Directory.CreateTempSubdirectory("summary-empty-").FullName;

        var (exitCode, _, error) = await RunAsync("summary", "--model", dir, "--adapter", "ia3");

        Assert.Equal(2, exitCode);
        Assert.Contains("config.json is missing", error, StringComparison.Ordinal);
        Directory.Delete(dir);
    }
}
