using System.Text.Json;
using Adapters.Testing;

namespace Adapters.Hub.Cli.Tests;

/// <summary>
/// <c>inspect</c> and <c>convert</c> on every hostile tensor file: one escaped error line and exit code 3
/// (integrity), nothing written; a legal stride-0 view is described by <c>inspect</c> and refused by <c>convert</c>.
/// </summary>
public sealed class HostileFileCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("hostile-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    public static TheoryData<string> RefusedFiles() =>
    [
        "D-crash-deep_nested_tuple_100k_as_dict_key__zip_.bin",
        "D-crash-self_referential_list_as_dict_key__zip_.bin",
        "D-crash-self_referential_list_as_persistent_id__zip_.bin",
        "D-crash-self_referential_list_as_tensor_size__zip_.bin",
        "D-hang-billion_laughs_DAG_2_47_paths__ints_only__zip_.bin",
        "D-hang-billion_laughs_DAG_2_47_paths_with_tensor_leaf__legacy_.bin",
        "D-hang-billion_laughs_DAG_2_47_paths_with_tensor_leaf__zip_.bin",
        "D-memspike-storage_entry__1_9_GB_of_zeros_deflated__zip_bomb_.bin",
        "D-untyped-exit1-data_pkl_declares_2_31_inflated_bytes.bin",
        "ansi.bin",
        "deep-tuple-key.bin",
        "laughs.bin",
        "selfref-key.bin",
        "selfref-min.bin",
    ];

    [Theory]
    [MemberData(nameof(RefusedFiles))]
    public async Task Inspect_and_convert_exit_3_with_one_escaped_line(string name)
    {
        var path = TestPaths.Fixture("hostile", name);
        foreach (var args in new[] { new[] { "inspect", path }, ["convert", path, Path.Combine(_folder, "out.safetensors")] })
        {
            var (code, output, error) = await RunAsync(args);
            Assert.True(code == 3, $"{args[0]} exited {code}: {error}");
            Assert.Equal("", output);
            var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
            Assert.StartsWith("error: " + path + ": ", line);
            Assert.DoesNotContain('\u001b', line);
            Assert.DoesNotContain('\u0007', line);
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder));
    }

    [Theory]
    [InlineData("stride0.bin")]
    [InlineData("D-hang-stride_0_broadcast_2_40_elements__legacy_.bin")]
    [InlineData("D-hang-stride_0_broadcast_10_10_elements__zip_.bin")]
    public async Task A_stride_0_view_is_described_by_inspect_and_refused_by_convert(string name)
    {
        var path = TestPaths.Fixture("hostile", name);
        var (code, output, error) = await RunAsync("inspect", "--json", path);
        Assert.True(code == 0, error);
        using (var doc = JsonDocument.Parse(output))
        {
            var tensor = doc.RootElement.GetProperty("tensors")[0];
            Assert.Equal(JsonValueKind.Null, tensor.GetProperty("sha256").ValueKind);
            Assert.Contains("stride [0, 0]", tensor.GetProperty("view").GetString());
        }
        (code, _, error) = await RunAsync("convert", path, Path.Combine(_folder, "out.bin"));
        Assert.Equal(3, code);
        Assert.Contains("PickleLimits.MaxExpandedViewBytes", error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder));
    }
}
