using System.Diagnostics;
using System.Text.Json;
using Adapters.Hub.Cli;
using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Cli.Tests;

public sealed class PullCommandTests : IDisposable
{
    private const string RepoId = "ada/cli-adapter";
    private readonly HubStub _stub = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-cli-pull-").FullName;

    public PullCommandTests()
    {
        _stub.AddFile(RepoId, "README.md", "# cli\n");
        _stub.AddFile(RepoId, "adapter_config.json", "{\"r\": 8}");
        _stub.AddFile(RepoId, "adapter_model.safetensors", TestHub.RandomBytes(100_000, 5), lfs: true);
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

    private string[] Hub(params string[] args) => [.. args, "--endpoint", _stub.Endpoint.ToString(), "--cache-dir", _cache, "--token", TestHub.Token];

    [Fact]
    public async Task Pull_prints_the_snapshot_path_of_a_verified_download()
    {
        var (exitCode, output, error) = await RunAsync(Hub("pull", RepoId));

        Assert.True(exitCode == 0, error);
        var snapshot = output.Trim();
        Assert.Equal(Path.Combine(_cache, "models--ada--cli-adapter", "snapshots", HubStub.CommitA), snapshot);
        Assert.Equal("{\"r\": 8}", await File.ReadAllTextAsync(Path.Combine(snapshot, "adapter_config.json")));
        Assert.Equal(3, await TestHub.AssertEveryBlobVerifiesAsync(_cache));
    }

    [Fact]
    public async Task Pull_json_with_files_and_patterns()
    {
        var (exitCode, output, error) = await RunAsync(Hub("pull", RepoId, "adapter_config.json", "README.md", "--json"));
        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(HubStub.CommitA, json.RootElement.GetProperty("commit").GetString());
        Assert.Equal(["adapter_config.json", "README.md"], json.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(Path.Combine(_cache, "models--ada--cli-adapter", "snapshots", HubStub.CommitA), json.RootElement.GetProperty("path").GetString());

        var (patternExit, patternOutput, _) = await RunAsync(Hub("pull", RepoId, "--include", "*.safetensors", "--exclude", "README*", "--json"));
        Assert.Equal(0, patternExit);
        using var patterned = JsonDocument.Parse(patternOutput);
        Assert.Equal(["adapter_model.safetensors"], patterned.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetString()));
    }

    [Fact]
    public async Task A_multi_file_pull_never_mixes_commits_when_a_push_lands_mid_pull()
    {
        var repo = _stub.Repo(RepoId);
        repo.Snapshots[HubStub.CommitB] = new(StringComparer.Ordinal)
        {
            ["README.md"] = new StubFile("README.md", "# cli v2\n"u8.ToArray(), lfs: false),
            ["adapter_config.json"] = new StubFile("adapter_config.json", "{\"r\": 16}"u8.ToArray(), lfs: false),
        };
        var heads = 0;
        _stub.Answered = request =>
        {
            if (request.StartsWith("HEAD ", StringComparison.Ordinal) && Interlocked.Increment(ref heads) == 1) repo.Branches["main"] = HubStub.CommitB;
        };

        var (exitCode, output, error) = await RunAsync(Hub("pull", RepoId, "adapter_config.json", "README.md", "--json"));

        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        var snapshot = json.RootElement.GetProperty("path").GetString()!;
        Assert.Equal(HubStub.CommitA, json.RootElement.GetProperty("commit").GetString());
        Assert.Equal("{\"r\": 8}", await File.ReadAllTextAsync(Path.Combine(snapshot, "adapter_config.json")));
        Assert.Equal("# cli\n", await File.ReadAllTextAsync(Path.Combine(snapshot, "README.md")));
        Assert.Equal(2, heads);
    }

    [Fact]
    public async Task Pull_of_a_missing_repo_fails_with_one_line()
    {
        var (exitCode, output, error) = await RunAsync(Hub("pull", "ada/missing"));

        Assert.Equal(ExitCodes.NotFound, exitCode);
        Assert.Empty(output);
        Assert.StartsWith("error: 401 Repository Not Found", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Pull_offline_serves_the_cache_and_names_what_is_missing()
    {
        Assert.Equal(0, (await RunAsync(Hub("pull", RepoId, "README.md"))).ExitCode);

        var (exitCode, output, _) = await RunAsync(Hub("pull", RepoId, "README.md", "--offline"));
        var (missingExit, _, missingError) = await RunAsync(Hub("pull", RepoId, "adapter_config.json", "--offline"));

        Assert.Equal(0, exitCode);
        Assert.EndsWith(HubStub.CommitA, output.Trim(), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, missingExit);
        Assert.Contains("adapter_config.json", missingError, StringComparison.Ordinal);
        Assert.Contains("not in the cache", missingError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hf_endpoint_and_hf_hub_cache_variables_are_honoured_over_plain_http()
    {
        var saved = (Environment.GetEnvironmentVariable("HF_ENDPOINT"), Environment.GetEnvironmentVariable("HF_HUB_CACHE"));
        Environment.SetEnvironmentVariable("HF_ENDPOINT", _stub.Endpoint.ToString().TrimEnd('/'));
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", _cache);
        try
        {
            var (exitCode, output, error) = await RunAsync("pull", RepoId, "README.md");

            Assert.True(exitCode == 0, error);
            Assert.StartsWith(_cache, output.Trim(), StringComparison.Ordinal);
            Assert.StartsWith("http://", _stub.Endpoint.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("HF_ENDPOINT", saved.Item1);
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", saved.Item2);
        }
    }

    [Fact]
    public async Task Separate_processes_pulling_one_file_make_one_blob_and_a_killed_one_is_resumed()
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "adapters-hub.dll");
        Assert.True(File.Exists(cli), cli);
        var sha = _stub.Repo(RepoId).Files["adapter_model.safetensors"].Sha256;

        // A first process gets stuck mid-body and is killed.
        _stub.FailCdn(sha, r => r with { Fault = BodyFault.Stall, FaultAfter = 40_000, StallFor = TimeSpan.FromSeconds(60) });
        using (var stuck = StartCli(cli, "pull", RepoId, "adapter_model.safetensors"))
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (_stub.CdnRequestCount(sha) == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
            await Task.Delay(1000);
            stuck.Kill(entireProcessTree: true);
            await stuck.WaitForExitAsync();
        }
        var incomplete = Path.Combine(_cache, "models--ada--cli-adapter", "blobs", sha + ".incomplete");
        Assert.True(File.Exists(incomplete));

        // Then three processes race for the same file.
        var racers = Enumerable.Range(0, 3).Select(_ => StartCli(cli, "pull", RepoId, "adapter_model.safetensors")).ToList();
        foreach (var racer in racers)
        {
            await racer.WaitForExitAsync();
            Assert.True(racer.ExitCode == 0, await racer.StandardError.ReadToEndAsync());
            racer.Dispose();
        }

        Assert.Equal([sha], Directory.EnumerateFiles(Path.Combine(_cache, "models--ada--cli-adapter", "blobs")).Select(Path.GetFileName));
        Assert.Equal(2, _stub.CdnRequestCount(sha));
        var resumedFrom = _stub.Cdn.Requests.Last().Header("Range");
        Assert.NotNull(resumedFrom);
        Assert.NotEqual("bytes=0-", resumedFrom);
        Assert.Equal(1, await TestHub.AssertEveryBlobVerifiesAsync(_cache));
    }

    private Process StartCli(string cli, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(cli);
        foreach (var arg in Hub(args)) start.ArgumentList.Add(arg);
        start.Environment["HF_HUB_OFFLINE"] = "0";
        return Process.Start(start)!;
    }
}
