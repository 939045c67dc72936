using System.Net;
using Adapters.Core.Serialization;
using Adapters.Hub.Cli.Commands;
using Adapters.Hub.Tests.Stubs;
using Adapters.Testing;

namespace Adapters.Hub.Cli.Tests;

/// <summary>Each exit code of <see cref="ExitCodes"/>, produced through the real CLI entry point.</summary>
public sealed class ExitCodeTests : IDisposable
{
    private const string RepoId = "ada/exit-codes";
    private readonly HubStub _stub = new();
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("adapters-cli-exit-");
    private readonly (string? Home, string? Token, string? Legacy) _saved =
        (Environment.GetEnvironmentVariable("HF_HOME"), Environment.GetEnvironmentVariable("HF_TOKEN"), Environment.GetEnvironmentVariable("HUGGING_FACE_HUB_TOKEN"));

    public ExitCodeTests()
    {
        // No token from the developer's environment or token file may leak into these runs.
        Environment.SetEnvironmentVariable("HF_HOME", _scratch.FullName);
        Environment.SetEnvironmentVariable("HF_TOKEN", null);
        Environment.SetEnvironmentVariable("HUGGING_FACE_HUB_TOKEN", null);
        _stub.AddFile(RepoId, "adapter_config.json", "{\"r\": 8}");
        _stub.AddFile(RepoId, "adapter_model.safetensors", TestHub.RandomBytes(50_000, 11), lfs: true);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("HF_HOME", _saved.Home);
        Environment.SetEnvironmentVariable("HF_TOKEN", _saved.Token);
        Environment.SetEnvironmentVariable("HUGGING_FACE_HUB_TOKEN", _saved.Legacy);
        _stub.Dispose();
        _scratch.Delete(recursive: true);
    }

    private string Cache => Path.Combine(_scratch.FullName, "hub");

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private string[] Hub(params string[] args) => [.. args, "--endpoint", _stub.Endpoint.ToString(), "--cache-dir", Cache, "--token", TestHub.Token];

    private static void AssertOneErrorLine(string error)
    {
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Success_is_0()
    {
        var (exitCode, _, error) = await RunAsync(Hub("pull", RepoId, "adapter_config.json"));
        Assert.True(exitCode == ExitCodes.Ok, error);
    }

    [Theory]
    [InlineData("pull")]
    [InlineData("pull", "ada/x", "--revision")]
    [InlineData("serve", "--port", "not-a-number")]
    [InlineData("no-such-verb")]
    public async Task Parse_errors_are_1(params string[] args)
    {
        var (exitCode, _, error) = await RunAsync(args);
        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.NotEmpty(error);
    }

    [Fact]
    public async Task Bad_input_is_1()
    {
        var (exitCode, _, error) = await RunAsync(Hub("pull", "not a repo id"));
        Assert.Equal(ExitCodes.Usage, exitCode);
        AssertOneErrorLine(error);
    }

    [Fact]
    public async Task Missing_repository_revision_file_and_local_file_are_2()
    {
        var repo = await RunAsync(Hub("pull", "ada/missing"));
        var revision = await RunAsync(Hub("pull", RepoId, "adapter_config.json", "--revision", "no-such-branch"));
        var entry = await RunAsync(Hub("pull", RepoId, "no-such-file.json"));
        var local = await RunAsync("inspect", Path.Combine(_scratch.FullName, "absent.safetensors"));
        var offline = await RunAsync(Hub("pull", RepoId, "adapter_config.json", "--offline"));

        Assert.Equal(ExitCodes.NotFound, repo.ExitCode);
        Assert.Contains("Repository Not Found", repo.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, revision.ExitCode);
        Assert.Contains("Revision Not Found", revision.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, entry.ExitCode);
        Assert.Contains("Entry Not Found", entry.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, local.ExitCode);
        Assert.Contains("absent.safetensors", local.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, offline.ExitCode);
        Assert.Contains("not in the cache", offline.Error, StringComparison.Ordinal);
        foreach (var run in new[] { repo, revision, entry, local, offline }) AssertOneErrorLine(run.Error);
    }

    [Fact]
    public async Task Unknown_legacy_adapter_id_is_2()
    {
        var (exitCode, _, error) = await RunAsync("resolve", "no-such-task/no-such-subtask@nobody", "--model", "bert-base-uncased", "--registry", TestPaths.Fixture("legacy-hub"));
        Assert.Equal(ExitCodes.NotFound, exitCode);
        AssertOneErrorLine(error);
    }

    [Fact]
    public async Task A_download_whose_bytes_do_not_match_the_hash_is_3_and_leaves_no_blob()
    {
        var file = _stub.Repo(RepoId).Files["adapter_model.safetensors"];
        static RawResponse Corrupt(RawResponse r)
        {
            var corrupt = r.Body.ToArray();
            corrupt[^1] ^= 0xFF;
            return r with { Body = corrupt };
        }
        // Wrong bytes twice: the first mismatch is answered by one fresh download from byte 0, the second is final.
        _stub.FailCdn(file.Sha256, Corrupt, Corrupt);

        var (exitCode, _, error) = await RunAsync(Hub("pull", RepoId, "adapter_model.safetensors"));

        Assert.Equal(ExitCodes.Integrity, exitCode);
        Assert.Contains("Hash mismatch", error, StringComparison.Ordinal);
        AssertOneErrorLine(error);
        Assert.False(File.Exists(Path.Combine(Cache, "models--ada--exit-codes", "blobs", file.Sha256)));
    }

    [Fact]
    public async Task A_corrupt_safetensors_file_is_3()
    {
        var path = Path.Combine(_scratch.FullName, "corrupt.safetensors");
        await File.WriteAllBytesAsync(path, [16, 0, 0, 0, 0, 0, 0, 0, .. "{not json at all"u8.ToArray()]);

        var (exitCode, _, error) = await RunAsync("inspect", path);

        Assert.Equal(ExitCodes.Integrity, exitCode);
        Assert.Contains("corrupt.safetensors", error, StringComparison.Ordinal);
        AssertOneErrorLine(error);
    }

    [Fact]
    public async Task A_refused_token_a_gated_repository_and_a_write_without_token_are_4()
    {
        _stub.FailHub("/api/whoami-v2", new StubFault(401, Message: "Invalid credentials in Authorization header"));
        _stub.Repo("ada/gated").Gated = true;
        _stub.AddFile("ada/gated", "adapter_config.json", "{}");
        _stub.FailHub("/api/repos/create", new StubFault(401, Message: "You must be authenticated to create a repository"));
        var folder = Directory.CreateDirectory(Path.Combine(_scratch.FullName, "adapter")).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "adapter_config.json"), "{\"config\": {\"architecture\": \"lora\"}, \"name\": \"a\", \"model_name\": \"bert-base-uncased\", \"model_type\": \"bert\", \"version\": \"adapters.1.0.0\"}");
        await File.WriteAllBytesAsync(Path.Combine(folder, "adapter.safetensors"), [8, 0, 0, 0, 0, 0, 0, 0, .. "{}      "u8.ToArray()]);

        var whoami = await RunAsync("whoami", "--endpoint", _stub.Endpoint.ToString(), "--token", "hf_refused");
        var gated = await RunAsync(Hub("pull", "ada/gated", "adapter_config.json"));
        var push = await RunAsync("push", folder, "ada/new-adapter", "--endpoint", _stub.Endpoint.ToString());

        Assert.Equal(ExitCodes.Auth, whoami.ExitCode);
        Assert.Equal(ExitCodes.Auth, gated.ExitCode);
        Assert.Contains("Gated", gated.Error, StringComparison.Ordinal);
        Assert.True(push.ExitCode == ExitCodes.Auth, push.Error);
        Assert.Contains("needs a write token", push.Error, StringComparison.Ordinal);
        foreach (var run in new[] { whoami, gated, push }) AssertOneErrorLine(run.Error);
    }

    [Fact]
    public async Task Server_errors_after_every_retry_are_5()
    {
        // Retry-After: 0 makes the client retry at once, so all six attempts take no time.
        _stub.FailHub("/api/whoami-v2", Enumerable.Repeat(new StubFault(503, RetryAfter: "0"), 6).ToArray());

        var (exitCode, _, error) = await RunAsync("whoami", "--endpoint", _stub.Endpoint.ToString(), "--token", TestHub.Token);

        Assert.Equal(ExitCodes.Network, exitCode);
        Assert.Contains("503", error, StringComparison.Ordinal);
        AssertOneErrorLine(error);
        Assert.Equal(6, _stub.Arrivals.Count(a => a.Contains("/api/whoami-v2", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_table_maps_every_failure_kind()
    {
        Assert.Equal(ExitCodes.Network, CommandErrors.ExitCodeFor(new HttpRequestException("Connection refused")));
        Assert.Equal(ExitCodes.Network, CommandErrors.ExitCodeFor(new HubException("Could not reach http://x/", new HttpRequestException("refused"))));
        Assert.Equal(ExitCodes.Network, CommandErrors.ExitCodeFor(new TimeoutException()));
        Assert.Equal(ExitCodes.Network, CommandErrors.ExitCodeFor(new HubHttpException("429", HttpStatusCode.TooManyRequests, null, null, null, null)));
        Assert.Equal(ExitCodes.Auth, CommandErrors.ExitCodeFor(new HubHttpException("403", HttpStatusCode.Forbidden, null, null, null, null)));
        Assert.Equal(ExitCodes.NotFound, CommandErrors.ExitCodeFor(new HubHttpException("404", HttpStatusCode.NotFound, null, null, null, null)));
        Assert.Equal(ExitCodes.Usage, CommandErrors.ExitCodeFor(new HubConflictException("409", HttpStatusCode.Conflict, null, null, null, null)));
        Assert.Equal(ExitCodes.Integrity, CommandErrors.ExitCodeFor(new UnsafePickleException("x.bin", "os.system")));
        Assert.Equal(ExitCodes.Integrity, CommandErrors.ExitCodeFor(new IntegrityException("size")));
        Assert.Equal(ExitCodes.NotFound, CommandErrors.ExitCodeFor(new DirectoryNotFoundException()));
        Assert.Equal(ExitCodes.Auth, CommandErrors.ExitCodeFor(new MissingTokenException("m", new HubException("x"))));
        Assert.Equal(ExitCodes.Cancelled, CommandErrors.ExitCodeFor(new TaskCanceledException()));
        Assert.Equal(ExitCodes.Integrity, CommandErrors.ExitCodeFor(new AggregateException(new IntegrityException("x"))));
        Assert.Equal(ExitCodes.Usage, CommandErrors.ExitCodeFor(new ArgumentException("bad")));
    }
}
