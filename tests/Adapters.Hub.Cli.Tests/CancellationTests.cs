using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Cli.Tests;

/// <summary>Ctrl+C during a download: exit 130, a consistent cache, and a later pull that resumes.</summary>
public sealed class CancellationTests : IDisposable
{
    private const string RepoId = "ada/cancel-me";
    private readonly HubStub _stub = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-cli-cancel-").FullName;

    public void Dispose()
    {
        _stub.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    private string[] Hub(params string[] args) => [.. args, "--endpoint", _stub.Endpoint.ToString(), "--cache-dir", _cache, "--token", TestHub.Token];

    [Fact]
    public async Task Cancelling_a_pull_mid_stream_exits_130_keeps_the_partial_file_and_the_next_pull_resumes_and_verifies()
    {
        var file = _stub.AddFile(RepoId, "adapter_model.safetensors", TestHub.RandomBytes(300_000, 21), lfs: true);
        // The slow CDN sends 100 kB, then holds the connection open for a minute.
        _stub.FailCdn(file.Sha256, r => r with { Fault = BodyFault.Stall, FaultAfter = 100_000, StallFor = TimeSpan.FromSeconds(60) });
        var blobs = Path.Combine(_cache, "models--ada--cancel-me", "blobs");
        var incomplete = Path.Combine(blobs, file.Sha256 + ".incomplete");

        using var ctrlC = new CancellationTokenSource();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var pulling = CliApplication.RunAsync(Hub("pull", RepoId, "adapter_model.safetensors"), output, error, ctrlC.Token);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(File.Exists(incomplete) && new FileInfo(incomplete).Length >= 100_000) && DateTime.UtcNow < deadline && !pulling.IsCompleted)
        {
            await Task.Delay(20);
        }
        Assert.False(pulling.IsCompleted, $"the pull ended before it could be cancelled: {error}");
        await ctrlC.CancelAsync();
        var exitCode = await pulling.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ExitCodes.Cancelled, exitCode);
        Assert.Equal("error: cancelled", error.ToString().Trim());
        Assert.Empty(output.ToString());
        // Consistent cache: the received bytes stay in .incomplete, no blob and no snapshot entry claim the file.
        Assert.Equal(100_000, new FileInfo(incomplete).Length);
        Assert.False(File.Exists(Path.Combine(blobs, file.Sha256)));
        Assert.False(File.Exists(Path.Combine(_cache, "models--ada--cancel-me", "snapshots", HubStub.CommitA, "adapter_model.safetensors")));

        // The lock was released: the next pull does not wait for it, resumes with a Range request and verifies.
        using var again = new StringWriter();
        using var againError = new StringWriter();
        var secondExit = await CliApplication.RunAsync(Hub("pull", RepoId, "adapter_model.safetensors"), again, againError, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(secondExit == 0, againError.ToString());
        Assert.Equal("bytes=100000-", _stub.Cdn.Requests.Last().Header("Range"));
        Assert.False(File.Exists(incomplete));
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(Path.Combine(blobs, file.Sha256)));
        Assert.Equal(1, await TestHub.AssertEveryBlobVerifiesAsync(_cache));
    }
}
