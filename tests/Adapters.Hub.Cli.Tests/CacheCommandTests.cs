using System.Text.Json;
using Adapters.Hub.Cli;
using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Cli.Tests;

public sealed class CacheCommandTests : IDisposable
{
    private readonly PythonCacheFixture _cache = new();

    public void Dispose() => _cache.Dispose();

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Scan_lists_a_python_cache_as_text_and_json()
    {
        var (exitCode, text, error) = await RunAsync("cache", "scan", "--cache-dir", _cache.Root);
        var (_, json, _) = await RunAsync("cache", "scan", "--cache-dir", _cache.Root, "--json");

        Assert.True(exitCode == 0, error);
        Assert.Contains("ada/tiny-adapter", text, StringComparison.Ordinal);
        Assert.Contains("main, refs/pr/1", text, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(json);
        var repos = report.RootElement.GetProperty("repos");
        Assert.Equal(2, repos.GetArrayLength());
        Assert.Equal(2, repos[1].GetProperty("revisions").GetArrayLength());
        // Python's repo_type spelling, never the enum's number.
        Assert.Equal(["dataset", "model"], repos.EnumerateArray().Select(r => r.GetProperty("repoType").GetString() ?? "null").ToArray());
    }

    [Fact]
    public async Task Verify_exits_non_zero_on_a_corrupt_blob()
    {
        Assert.Equal(0, (await RunAsync("cache", "verify", "--cache-dir", _cache.Root)).ExitCode);
        var blob = Path.Combine(_cache.ModelFolder, "blobs", PythonCacheFixture.WeightsEtag);
        var bytes = await File.ReadAllBytesAsync(blob);
        bytes[0] ^= 1;
        await File.WriteAllBytesAsync(blob, bytes);

        var (exitCode, output, error) = await RunAsync("cache", "verify", "--cache-dir", _cache.Root);

        Assert.Equal(ExitCodes.Integrity, exitCode);
        Assert.Contains("CORRUPT", output, StringComparison.Ordinal);
        Assert.Contains(PythonCacheFixture.WeightsEtag, output, StringComparison.Ordinal);
        Assert.StartsWith("error: 1 corrupt blob(s)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_names_the_blobs_it_could_not_verify()
    {
        var blob = Path.Combine(_cache.ModelFolder, "blobs", "proxy-etag-7");
        await File.WriteAllTextAsync(blob, "no hash names this content");

        var (exitCode, output, _) = await RunAsync("cache", "verify", "--cache-dir", _cache.Root);
        var (_, json, _) = await RunAsync("cache", "verify", "--cache-dir", _cache.Root, "--json");

        Assert.Equal(0, exitCode);
        Assert.Contains($"UNVERIFIED  {blob}", output, StringComparison.Ordinal);
        Assert.Contains("1 could not be verified", output, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(json);
        Assert.Equal(blob, report.RootElement.GetProperty("unverifiable").EnumerateArray().Single().GetString());
    }

    [Fact]
    public async Task Prune_dry_run_reports_and_prune_deletes()
    {
        var (_, dry, _) = await RunAsync("cache", "prune", "--cache-dir", _cache.Root, "--dry-run");
        Assert.Contains($"would delete revision model:ada/tiny-adapter@{PythonCacheFixture.OldCommit}", dry, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(_cache.ModelFolder, "snapshots", PythonCacheFixture.OldCommit)));

        var (exitCode, json, _) = await RunAsync("cache", "prune", "--cache-dir", _cache.Root, "--json");

        Assert.Equal(0, exitCode);
        using var result = JsonDocument.Parse(json);
        Assert.Equal("dataset:org/eval-set", result.RootElement.GetProperty("deletedRepos")[0].GetString());
        Assert.False(Directory.Exists(Path.Combine(_cache.ModelFolder, "snapshots", PythonCacheFixture.OldCommit)));
    }
}
