using System.Security.Cryptography;
using System.Text.Json;
using Adapters.Testing;

namespace Adapters.Hub.Cli.Tests;

public sealed class InspectConvertCommandTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static string Tensors(params string[] parts) => TestPaths.Fixture(["tensors", .. parts]);

    private static string Temp(string extension) => Path.Combine(Path.GetTempPath(), $"cli-{Guid.NewGuid():N}{extension}");

    [Fact]
    public async Task Inspect_json_lists_safetensors_tensors_metadata_and_value_hashes()
    {
        var (code, output, error) = await RunAsync("inspect", Tensors("huggingface__safetensors", "samples", "overall.safetensors"), "--json");
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal("safetensors", root.GetProperty("format").GetString());
        Assert.Equal("a", root.GetProperty("metadata").GetProperty("test").GetString());
        var b = root.GetProperty("tensors").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "B");
        Assert.Equal("U8", b.GetProperty("dtype").GetString());
        Assert.Equal([6], b.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(new byte[] { 253, 254, 255, 0, 1, 2 })), b.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task Inspect_hashes_strided_pickle_tensors_by_their_logical_values()
    {
        var (code, output, error) = await RunAsync("inspect", "--json", Tensors("huggingface__candle", "candle-core", "tests", "fortran_tensor_3d.pth"));
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal("torch-zip", root.GetProperty("format").GetString());
        Assert.Equal(2, root.GetProperty("protocol").GetInt32());
        var expected = SHA256.HashData(Enumerable.Range(1, 24).SelectMany(i => BitConverter.GetBytes((long)i)).ToArray());
        Assert.Equal(Convert.ToHexStringLower(expected), root.GetProperty("tensors")[0].GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task Inspect_reports_legacy_pickles_and_sharded_indexes()
    {
        var (code, output, _) = await RunAsync("inspect", "--json", Tensors("generated", "legacy_p1.pt"));
        Assert.Equal(0, code);
        using (var doc = JsonDocument.Parse(output))
        {
            Assert.Equal("torch-legacy", doc.RootElement.GetProperty("format").GetString());
            Assert.Equal(6, doc.RootElement.GetProperty("tensorCount").GetInt32());
        }
        (code, output, _) = await RunAsync("inspect", Tensors("FluxML__SafeTensors.jl", "test", "sharded", "model.safetensors.index.json"));
        Assert.Equal(0, code);
        Assert.Contains("sharded safetensors (6 shards)", output, StringComparison.Ordinal);
        Assert.Contains("float8_e4m3fn_357", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_reads_the_python_written_adapter_bin()
    {
        var path = TestPaths.Fixture("python-written", "AnHu2410__MD_crosslingual", "adapter", "pytorch_adapter.bin");
        var (code, output, error) = await RunAsync("inspect", path);
        Assert.True(code == 0, error);
        Assert.Contains("tensors:  48", output, StringComparison.Ordinal);
        Assert.Contains("bert.encoder.layer.11.output.adapters.md.adapter_up.weight", output, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, int> BadInputs()
    {
        var truncated = Temp(".safetensors");
        File.WriteAllBytes(truncated, File.ReadAllBytes(Tensors("huggingface__safetensors", "samples", "overall.safetensors"))[..100]);
        var offsets = Temp(".safetensors");
        var bytes = File.ReadAllBytes(Tensors("huggingface__safetensors", "samples", "B.safetensors"));
        var text = System.Text.Encoding.ASCII.GetString(bytes).Replace("[0,6]", "[1,7]", StringComparison.Ordinal);
        File.WriteAllBytes(offsets, System.Text.Encoding.ASCII.GetBytes(text));
        var huge = Temp(".safetensors");
        File.WriteAllBytes(huge, [.. BitConverter.GetBytes(ulong.MaxValue), .. "{}"u8.ToArray()]);
        return new TheoryData<string, string, int>
        {
            { truncated, "invalid header length", ExitCodes.Integrity },
            { offsets, "invalid offset for tensor `B`", ExitCodes.Integrity },
            { huge, "header too large", ExitCodes.Integrity },
            { Tensors("generated", "zip_unsafe.pt"), "global 'posix.system' is not allowed", ExitCodes.Integrity },
            { Tensors("generated", "legacy_unsafe.pt"), "global '__builtin__.eval' is not allowed", ExitCodes.Integrity },
            { "/no/such/file.bin", "file not found", ExitCodes.NotFound },
        };
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_exits_non_zero_with_one_line_naming_the_file(string path, string problem, int exitCode)
    {
        var (code, output, error) = await RunAsync("inspect", path);
        Assert.Equal(exitCode, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("error: " + path + ": ", line, StringComparison.Ordinal);
        Assert.Contains(problem, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Convert_goes_bin_to_safetensors_and_back_keeping_every_value()
    {
        var source = Tensors("shaltielshmid__TorchSharp.PyBridge", "TorchSharp.PyBridge.Tests", "pickled_optimizers", "adam_load.pth");
        var st = Temp(".safetensors");
        var bin = Temp(".bin");
        try
        {
            var (code, output, error) = await RunAsync("convert", source, st);
            Assert.True(code == 0, error);
            Assert.Contains("14 tensors", output, StringComparison.Ordinal);
            (code, _, error) = await RunAsync("convert", st, bin);
            Assert.True(code == 0, error);
            var hashes = new List<Dictionary<string, string>>();
            foreach (var path in new[] { source, st, bin })
            {
                var (c, json, _) = await RunAsync("inspect", "--json", path);
                Assert.Equal(0, c);
                using var doc = JsonDocument.Parse(json);
                hashes.Add(doc.RootElement.GetProperty("tensors").EnumerateArray().ToDictionary(
                    t => t.GetProperty("name").GetString()!,
                    t => t.GetProperty("dtype").GetString() + string.Join(",", t.GetProperty("shape").EnumerateArray()) + t.GetProperty("sha256").GetString()));
            }
            Assert.Equal(hashes[0], hashes[1]);
            Assert.Equal(hashes[0], hashes[2]);
            var header = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(st), 8, 40);
            Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"}", header, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(st);
            File.Delete(bin);
        }
    }

    [Fact]
    public async Task Convert_refuses_unknown_extensions_and_types_safetensors_lacks()
    {
        var (code, _, error) = await RunAsync("convert", Tensors("huggingface__candle", "candle-core", "tests", "test.pt"), Temp(".npz"));
        Assert.NotEqual(0, code);
        Assert.Contains("unknown output extension", error, StringComparison.Ordinal);
    }
}
