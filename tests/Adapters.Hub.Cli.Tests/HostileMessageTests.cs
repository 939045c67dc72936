using System.Text;
using Adapters.Hub.Tests.Stubs;
using Adapters.Testing;

namespace Adapters.Hub.Cli.Tests;

/// <summary>
/// Names from hostile files and servers, through the real CLI entry point: every error is one line, terminal
/// escape sequences arrive escaped, long names are shortened, the exit code is the table's, and nothing
/// half-created is left behind.
/// </summary>
public sealed class HostileMessageTests : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("adapters-cli-hostile-");

    public void Dispose() => _scratch.Delete(recursive: true);

    private string Cache => Path.Combine(_scratch.FullName, "hub");

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static void AssertOneSafeLine(string error)
    {
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain(error.TrimEnd('\n'), c => char.IsControl(c));
        Assert.InRange(error.Length, 1, "error: ".Length + Text.SafeText.MaxMessageLength + 1);
    }

    [Fact]
    public async Task A_pickle_global_with_terminal_escapes_is_refused_with_the_escapes_made_visible_and_exit_3()
    {
        var (exitCode, output, error) = await RunAsync("inspect", TestPaths.Fixture("hostile", "ansi.bin"));

        Assert.Equal(ExitCodes.Integrity, exitCode);
        Assert.Equal("", output);
        AssertOneSafeLine(error);
        Assert.Contains("unsafe pickle: global '", error, StringComparison.Ordinal);
        Assert.Contains("\\e]0;pwned-title\\x07\\e[2J\\e[31mFAKE: all good\\rerror: fine.system", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_etag_that_is_not_a_blob_name_is_an_integrity_failure_exit_3()
    {
        var body = Encoding.UTF8.GetBytes("{\"r\": 8}");
        using var hub = new RawHttpServer(request => new RawResponse(200, body, new Dictionary<string, string>
        {
            ["X-Repo-Commit"] = HubStub.CommitA,
            ["ETag"] = "\"../../../../escape/" + new string('x', 400) + "\"",
        }));

        var (exitCode, _, error) = await RunAsync("pull", "ada/hostile", "adapter_config.json", "--endpoint", hub.BaseUri.ToString(), "--cache-dir", Cache);

        Assert.Equal(ExitCodes.Integrity, exitCode);
        AssertOneSafeLine(error);
        Assert.Contains("etag '../../../../escape/", error, StringComparison.Ordinal);
        Assert.Contains("chars)", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Cache, "escape")));
    }

    [Fact]
    public async Task A_server_path_too_long_for_the_file_system_gives_one_short_line_and_leaves_no_empty_folders()
    {
        using var stub = new HubStub();
        var longPath = string.Join('/', Enumerable.Repeat("d", 2100)) + "/weights.bin";
        stub.AddFile("ada/long", "config.json", "{}");
        stub.AddFile("ada/long", longPath, "deep");

        var (exitCode, _, error) = await RunAsync("pull", "ada/long", "--endpoint", stub.Endpoint.ToString(), "--cache-dir", Cache, "--token", TestHub.Token);

        Assert.NotEqual(ExitCodes.Ok, exitCode);
        AssertOneSafeLine(error);
        var snapshot = Path.Combine(Cache, "models--ada--long", "snapshots", HubStub.CommitA);
        Assert.Empty(Directory.Exists(snapshot) ? Directory.EnumerateDirectories(snapshot, "*", SearchOption.AllDirectories) : []);
    }
}
