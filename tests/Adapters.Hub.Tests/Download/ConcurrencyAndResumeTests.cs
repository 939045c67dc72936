using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Tests.Download;

public sealed class ConcurrencyAndResumeTests : IDisposable
{
    private const string RepoId = "ada/shared";
    private const int Size = 600_000;
    private readonly HubStub _stub = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-hub-concurrent-").FullName;
    private readonly byte[] _content = TestHub.RandomBytes(Size, seed: 11);
    private readonly StubFile _file;

    public ConcurrencyAndResumeTests() => _file = _stub.AddFile(RepoId, "adapter_model.safetensors", _content, lfs: true);

    public void Dispose()
    {
        _stub.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    private string Blobs => Path.Combine(_cache, "models--ada--shared", "blobs");

    [Fact]
    public async Task Concurrent_pulls_of_one_file_produce_one_blob_from_one_transfer()
    {
        // Separate clients, as separate processes would have: they share only the cache and its locks.
        var clients = Enumerable.Range(0, 6).Select(_ => TestHub.Client(_stub, _cache)).ToList();
        try
        {
            var paths = await Task.WhenAll(clients.Select(c => c.Files.DownloadFileAsync(RepoId, "adapter_model.safetensors")));

            Assert.Single(paths.Distinct());
            Assert.Equal(_content, await File.ReadAllBytesAsync(paths[0]));
            Assert.Equal([_file.Sha256], Directory.EnumerateFiles(Blobs).Select(Path.GetFileName));
            Assert.Equal(1, _stub.CdnRequestCount(_file.Sha256));
            Assert.Equal(1, await TestHub.AssertEveryBlobVerifiesAsync(_cache));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_killed_download_resumes_from_its_incomplete_file_and_is_verified_end_to_end()
    {
        // The first run stalls after 250 kB and is killed (cancelled) while waiting.
        _stub.FailCdn(_file.Sha256, r => r with { Fault = BodyFault.Stall, FaultAfter = 250_000, StallFor = TimeSpan.FromSeconds(30) });
        var options = TestHub.Options(_stub, _cache);
        options.ReadTimeout = TimeSpan.FromSeconds(30);
        using (var first = new HubClient(options))
        using (var kill = new CancellationTokenSource())
        {
            var run = first.Files.DownloadFileAsync(RepoId, "adapter_model.safetensors", cancellationToken: kill.Token);
            var incomplete = Path.Combine(Blobs, _file.Sha256 + ".incomplete");
            await WaitUntilAsync(() => _stub.CdnRequestCount(_file.Sha256) == 1);
            await Task.Delay(400);
            kill.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
            Assert.Equal(250_000, new FileInfo(incomplete).Length);
        }

        using var second = TestHub.Client(_stub, _cache);
        var path = await second.Files.DownloadFileAsync(RepoId, "adapter_model.safetensors");

        Assert.Equal("bytes=250000-", _stub.Cdn.Requests.Last().Header("Range"));
        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
        Assert.Equal(1, await TestHub.AssertEveryBlobVerifiesAsync(_cache));
    }

    [Fact]
    public async Task A_corrupt_incomplete_file_is_caught_by_the_end_to_end_hash()
    {
        Directory.CreateDirectory(Blobs);
        var garbage = TestHub.RandomBytes(100_000, seed: 99);
        await File.WriteAllBytesAsync(Path.Combine(Blobs, _file.Sha256 + ".incomplete"), garbage);
        using var hub = TestHub.Client(_stub, _cache);

        // The resumed bytes fail the end-to-end hash; the partial is deleted and the file downloaded
        // once more from byte 0 in the same run, so a poisoned partial never fails a healthy pull.
        var path = await hub.Files.DownloadFileAsync(RepoId, "adapter_model.safetensors");

        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
        Assert.Equal(["bytes=100000-", "none"], _stub.Cdn.Requests.Select(r => r.Header("Range") ?? "none").ToArray());
        Assert.Equal([_file.Sha256], Directory.EnumerateFiles(Blobs).Select(p => Path.GetFileName(p)).OfType<string>().ToArray());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 10 s");
            await Task.Delay(20);
        }
    }
}
