using System.Text.Json;
using Adapters.Testing;

namespace Adapters.Hub.Cli.Tests.Serve;

/// <summary>The <c>serve</c> verb, and <c>push</c> plus an environment-configured client pointed at it with <c>HF_ENDPOINT</c> alone.</summary>
public sealed class ServeCommandTests : IDisposable
{
    private static readonly string[] s_variables = ["HF_ENDPOINT", "HF_HOME", "HF_TOKEN", "HF_HUB_CACHE", "HF_TOKEN_PATH", "HF_HUB_OFFLINE"];
    private readonly Dictionary<string, string?> _saved = s_variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("adapters-serve-cli-");

    public void Dispose()
    {
        foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
        _scratch.Delete(recursive: true);
    }

    [Fact]
    public async Task Serve_prints_the_endpoint_and_push_and_pull_work_with_HF_ENDPOINT_alone()
    {
        var inner = new StringWriter();
        var output = TextWriter.Synchronized(inner);
        using var error = new StringWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var root = Path.Combine(_scratch.FullName, "registry");
        var serving = CliApplication.RunAsync(["serve", "--root", root, "--port", "0"], output, error, stop.Token);

        string? endpoint = null;
        for (var attempt = 0; attempt < 200 && endpoint is null && !serving.IsCompleted; attempt++)
        {
            await Task.Delay(50);
            string text;
            lock (output) text = inner.ToString();
            endpoint = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("HF_ENDPOINT=", StringComparison.Ordinal))?["HF_ENDPOINT=".Length..];
        }
        Assert.True(endpoint is not null, $"serve printed no HF_ENDPOINT line: {inner} {error}");
        Assert.Matches(@"^http://127\.0\.0\.1:\d+$", endpoint);

        try
        {
            foreach (var name in s_variables) Environment.SetEnvironmentVariable(name, null);
            Environment.SetEnvironmentVariable("HF_HOME", Path.Combine(_scratch.FullName, "home"));
            Environment.SetEnvironmentVariable("HF_ENDPOINT", endpoint);

            var source = TestPaths.Fixture("python-written", "AnHu2410__MD_crosslingual", "adapter");
            using var pushOutput = new StringWriter();
            using var pushError = new StringWriter();
            var exitCode = await CliApplication.RunAsync(["push", source, "me/from-cli", "--json"], pushOutput, pushError, CancellationToken.None);
            Assert.True(exitCode == 0, pushError.ToString());
            var commit = JsonDocument.Parse(pushOutput.ToString()).RootElement.GetProperty("commitOid").GetString();

            // A client configured from the environment only, as Python's would be.
            using var client = new HubClient();
            Assert.Equal(new Uri(endpoint!), client.Options.Endpoint);
            var snapshot = await client.Files.SnapshotDownloadAsync("me/from-cli");
            Assert.Equal(commit, snapshot.CommitHash);
            Assert.StartsWith(Path.Combine(_scratch.FullName, "home", "hub"), snapshot.Path, StringComparison.Ordinal);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(source, "pytorch_model_head.bin")), await File.ReadAllBytesAsync(Path.Combine(snapshot.Path, "pytorch_model_head.bin")));

            // The page the banner names finds the pushed adapter.
            lock (output) Assert.Contains($"Web page: {endpoint}/ ", inner.ToString());
            using var browser = new HttpClient();
            Assert.Contains(">me/from-cli</a>", await browser.GetStringAsync(endpoint + "/?q=from-cli"), StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
        }
        Assert.Equal(0, await serving);
        lock (output) Assert.Contains("Stopped.", inner.ToString());
    }

    [Fact]
    public async Task Serve_with_verbose_logs_each_request_to_standard_error_without_the_token()
    {
        var inner = new StringWriter();
        var output = TextWriter.Synchronized(inner);
        var errorInner = new StringWriter();
        var error = TextWriter.Synchronized(errorInner);
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        const string token = "hf_verbose_secret_token";
        var serving = CliApplication.RunAsync(["serve", "--root", Path.Combine(_scratch.FullName, "registry"), "--port", "0", "--token", "write:" + token, "-v"], output, error, stop.Token);
        string? endpoint = null;
        for (var attempt = 0; attempt < 200 && endpoint is null && !serving.IsCompleted; attempt++)
        {
            await Task.Delay(50);
            string text;
            lock (output) text = inner.ToString();
            endpoint = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("HF_ENDPOINT=", StringComparison.Ordinal))?["HF_ENDPOINT=".Length..];
        }
        Assert.True(endpoint is not null, $"serve printed no HF_ENDPOINT line: {inner} {errorInner}");
        try
        {
            using var http = new HttpClient();
            using var whoami = new HttpRequestMessage(HttpMethod.Get, endpoint + "/api/whoami-v2");
            whoami.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            (await http.SendAsync(whoami)).EnsureSuccessStatusCode();
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.GetAsync(endpoint + "/api/models/me/absent")).StatusCode);
        }
        finally
        {
            await stop.CancelAsync();
        }
        Assert.Equal(0, await serving);
        string log;
        lock (error) log = errorInner.ToString();
        Assert.Matches(@"(?m)^info: serve: GET /api/whoami-v2 200 \d+\.\d ms\r?$", log);
        Assert.Matches(@"(?m)^info: serve: GET /api/models/me/absent 401 \d+\.\d ms\r?$", log);
        Assert.DoesNotContain(token, log);
        lock (output) Assert.DoesNotContain(token, inner.ToString());
    }

    [Fact]
    public async Task Serve_refuses_a_token_with_an_unknown_scope_on_one_line()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(["serve", "--root", _scratch.FullName, "--port", "0", "--token", "admin:hf_secret_value"], output, error, CancellationToken.None);
        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("'read' or 'write'", error.ToString());
        Assert.DoesNotContain("hf_secret_value", error.ToString());
        Assert.Single(error.ToString().Trim().Split('\n'));
    }

    [Fact]
    public async Task Serve_with_an_unreachable_postgres_fails_naming_the_database_and_never_the_password()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int closedPort;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var exitCode = await CliApplication.RunAsync(
            ["serve", "--root", _scratch.FullName, "--port", "0", "--postgres", $"Host=127.0.0.1;Port={closedPort};Database=team_registry;Username=registry;Password=pg_secret_value;Timeout=3"],
            output, error, CancellationToken.None);
        Assert.NotEqual(0, exitCode);
        Assert.Contains($"PostgreSQL 127.0.0.1:{closedPort}/team_registry", error.ToString());
        Assert.DoesNotContain("pg_secret_value", error.ToString() + output.ToString());
    }

    [Fact]
    public async Task Serve_refuses_an_s3_endpoint_without_a_bucket_before_starting()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(["serve", "--root", _scratch.FullName, "--port", "0", "--s3-endpoint", "http://127.0.0.1:9/"], output, error, CancellationToken.None);
        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("--s3-endpoint and --s3-bucket go together", error.ToString());
        Assert.DoesNotContain("Serving the registry", output.ToString());
    }
}
