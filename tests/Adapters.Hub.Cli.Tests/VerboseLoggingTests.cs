using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Cli.Tests;

public sealed class VerboseLoggingTests : IDisposable
{
    private const string RepoId = "ada/logged";
    private const string LongToken = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
    private readonly HubStub _stub = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-cli-verbose-").FullName;

    public VerboseLoggingTests()
    {
        _stub.AddFile(RepoId, "adapter_config.json", "{\"r\": 8}");
        _stub.AddFile(RepoId, "adapter_model.safetensors", TestHub.RandomBytes(20_000, 3), lfs: true);
    }

    public void Dispose()
    {
        _stub.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private string[] Hub(string token, params string[] args) => [.. args, "--endpoint", _stub.Endpoint.ToString(), "--cache-dir", _cache, "--token", token];

    private static void AssertMatches(string pattern, string text) =>
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(text, pattern), $"no line matches {pattern} in:\n{text}");

    [Fact]
    public async Task Verbose_logs_requests_verification_and_cache_hits_to_stderr_without_the_token()
    {
        var (exitCode, output, error) = await RunAsync(Hub(LongToken, "-v", "pull", RepoId, "adapter_model.safetensors"));
        var (againExit, againOutput, again) = await RunAsync(Hub(LongToken, "pull", RepoId, "adapter_model.safetensors", "--verbose"));

        Assert.True(exitCode == 0, error);
        Assert.Equal(0, againExit);
        Assert.Equal(output, againOutput);
        Assert.DoesNotContain("dbug", output, StringComparison.Ordinal);
        AssertMatches(@"dbug: Adapters\.Hub: HEAD http://[^ ]+/ada/logged/resolve/main/adapter_model\.safetensors -> 302 in \d+ ms", error);
        AssertMatches(@"dbug: Adapters\.Hub: GET http://[^ ]+ -> 200 in \d+ ms", error);
        AssertMatches(@"info: Adapters\.Hub: Verified 'adapter_model\.safetensors' of ada/logged: 20000 bytes, sha256 [0-9a-f]{64}", error);
        Assert.Contains("dbug: Adapters.Hub: Cache hit: 'adapter_model.safetensors' of ada/logged", again, StringComparison.Ordinal);
        foreach (var log in new[] { error, again })
        {
            Assert.DoesNotContain(LongToken, log, StringComparison.Ordinal);
            Assert.DoesNotContain("Bearer", log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_verbose_nothing_is_logged()
    {
        var (exitCode, _, error) = await RunAsync(Hub(TestHub.Token, "pull", RepoId, "adapter_config.json"));
        Assert.Equal(0, exitCode);
        Assert.Equal("", error);
    }

    [Fact]
    public async Task Retries_are_logged_with_the_attempt_and_cause()
    {
        _stub.FailHub("/api/whoami-v2", new StubFault(503, RetryAfter: "0"));

        var (_, _, error) = await RunAsync("whoami", "-v", "--endpoint", _stub.Endpoint.ToString(), "--token", TestHub.Token);

        AssertMatches(@"warn: Adapters\.Hub: Retry 1/5 of GET http://[^ ]+/api/whoami-v2 in 0 s after status 503", error);
    }

    [Fact]
    public async Task Tokens_in_server_messages_and_urls_are_masked_in_the_error_line_and_the_log()
    {
        _stub.FailHub("/api/whoami-v2", new StubFault(401, Message: $"token {TestHub.Token} (also {LongToken}, see https://hub/x?token={TestHub.Token}) is not valid"));

        var (exitCode, _, error) = await RunAsync("-v", "whoami", "--endpoint", _stub.Endpoint.ToString(), "--token", TestHub.Token);

        Assert.Equal(ExitCodes.Auth, exitCode);
        Assert.DoesNotContain(TestHub.Token, error, StringComparison.Ordinal);
        Assert.DoesNotContain(LongToken, error, StringComparison.Ordinal);
        Assert.DoesNotContain("Bearer", error, StringComparison.Ordinal);
        Assert.Contains("error: 401", error, StringComparison.Ordinal);
        Assert.True(error.Contains("token *** (also hf_***, see https://hub/x?token=*** is not valid", StringComparison.Ordinal), error);
        Assert.Contains("dbug: adapters-hub: exit 4", error, StringComparison.Ordinal);
    }
}
