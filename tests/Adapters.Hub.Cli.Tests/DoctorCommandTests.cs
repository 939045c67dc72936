using System.Text.Json;
using Adapters.Hub.Cli;

namespace Adapters.Hub.Cli.Tests;

public sealed class DoctorCommandTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Json_reports_libtorch_2_10_and_the_hub_settings()
    {
        var (exitCode, output, error) = await RunAsync("doctor", "--json");

        Assert.True(exitCode == 0, error);
        using var report = JsonDocument.Parse(output);
        var root = report.RootElement;
        Assert.StartsWith("2.10.", root.GetProperty("libtorch").GetString(), StringComparison.Ordinal);
        Assert.Equal("0.107.0", root.GetProperty("torchSharp").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("torchError").ValueKind);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("endpoint").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("cacheDirectory").GetString()));
        var tokenSource = root.GetProperty("tokenSource").GetString()!;
        Assert.True(tokenSource is "none" or "HF_TOKEN" or "HUGGING_FACE_HUB_TOKEN" || tokenSource.StartsWith("token file (", StringComparison.Ordinal), tokenSource);
    }

    [Fact]
    public async Task Text_output_never_prints_the_token()
    {
        const string secret = "hf_doctor_should_never_print_this";
        var previous = Environment.GetEnvironmentVariable("HF_TOKEN");
        Environment.SetEnvironmentVariable("HF_TOKEN", secret);
        try
        {
            var (exitCode, output, _) = await RunAsync("doctor");
            var (_, json, _) = await RunAsync("doctor", "--json");

            Assert.Equal(0, exitCode);
            Assert.Contains("HF_TOKEN", output, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, json, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("HF_TOKEN", previous);
        }
    }

    [Fact]
    public async Task Unknown_verb_fails_with_a_parse_error()
    {
        var (exitCode, _, error) = await RunAsync("no-such-verb");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("no-such-verb", error, StringComparison.Ordinal);
    }
}
