using System.Diagnostics;
using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Tests.Download;

/// <summary>
/// Each misbehaviour of the Hub or the CDN ends in a verified file or the right typed exception, and in
/// every case no blob in the cache fails its hash afterwards.
/// </summary>
public sealed class FaultMatrixTests : IDisposable
{
    private const string RepoId = "ada/faulty";
    private const int Size = 400_000;
    private readonly HubStub _stub = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-hub-faults-").FullName;
    private readonly byte[] _content = TestHub.RandomBytes(Size, seed: 7);
    private readonly StubFile _lfs;
    private readonly StubFile _regular;

    public FaultMatrixTests()
    {
        _lfs = _stub.AddFile(RepoId, "model.safetensors", _content, lfs: true);
        _regular = _stub.AddFile(RepoId, "config.json", "{\"hidden_size\": 8}");
    }

    public void Dispose()
    {
        _stub.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    private async Task<string> DownloadLfsAsync(HubClientOptions? options = null)
    {
        using var hub = new HubClient(options ?? TestHub.Options(_stub, _cache));
        return await hub.Files.DownloadFileAsync(RepoId, "model.safetensors");
    }

    private async Task AssertVerifiedAsync(string path)
    {
        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
        Assert.True(await TestHub.AssertEveryBlobVerifiesAsync(_cache) >= 1);
    }

    [Fact]
    public async Task Http_429_with_retry_after_is_waited_out()
    {
        _stub.FailHub("model.safetensors", new StubFault(429, RetryAfter: "1", Message: "slow down"));
        var watch = Stopwatch.StartNew();

        var path = await DownloadLfsAsync();

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(900), $"retried after {watch.Elapsed}");
        Assert.Equal(2, _stub.HubRequests.Count(r => r.Method == "HEAD"));
        await AssertVerifiedAsync(path);
    }

    [Fact]
    public async Task Http_503_then_success_on_the_cdn()
    {
        _stub.FailCdn(_lfs.Sha256, _ => new RawResponse(503, "busy"u8.ToArray()));

        var path = await DownloadLfsAsync();

        Assert.Equal(2, _stub.CdnRequestCount(_lfs.Sha256));
        await AssertVerifiedAsync(path);
    }

    [Fact]
    public async Task Persistent_503_ends_in_a_hub_http_exception_and_no_blob()
    {
        _stub.FailCdn(_lfs.Sha256, Enumerable.Repeat<Func<RawResponse, RawResponse>>(_ => new RawResponse(503, "busy"u8.ToArray()), 10).ToArray());

        var error = await Assert.ThrowsAsync<HubHttpException>(() => DownloadLfsAsync());

        Assert.Equal(503, (int)error.StatusCode);
        Assert.Equal(4, _stub.CdnRequestCount(_lfs.Sha256));
        Assert.Equal(0, await TestHub.AssertEveryBlobVerifiesAsync(_cache));
    }

    [Fact]
    public async Task Connection_reset_mid_body_resumes_with_a_range()
    {
        _stub.FailCdn(_lfs.Sha256, r => r with { Fault = BodyFault.Reset, FaultAfter = 150_000 });

        var path = await DownloadLfsAsync();

        var resumed = _stub.Cdn.Requests.Last();
        Assert.StartsWith("bytes=", resumed.Header("Range"), StringComparison.Ordinal);
        Assert.NotEqual("bytes=0-", resumed.Header("Range"));
        await AssertVerifiedAsync(path);
    }

    [Fact]
    public async Task Truncated_body_resumes_from_where_it_stopped()
    {
        _stub.FailCdn(_lfs.Sha256, r => r with { Fault = BodyFault.Truncate, FaultAfter = 123_457 });

        var path = await DownloadLfsAsync();

        Assert.Equal("bytes=123457-", _stub.Cdn.Requests.Last().Header("Range"));
        await AssertVerifiedAsync(path);
    }

    [Fact]
    public async Task Slow_body_hits_the_read_timeout_and_resumes()
    {
        _stub.FailCdn(_lfs.Sha256, r => r with { Fault = BodyFault.Stall, FaultAfter = 200_000, StallFor = TimeSpan.FromSeconds(20) });
        var watch = Stopwatch.StartNew();

        var path = await DownloadLfsAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Equal("bytes=200000-", _stub.Cdn.Requests.Last().Header("Range"));
        await AssertVerifiedAsync(path);
    }

    [Fact]
    public async Task A_body_that_keeps_stalling_gives_up_with_a_hub_exception_and_keeps_the_partial_file()
    {
        _stub.FailCdn(_lfs.Sha256, Enumerable.Repeat<Func<RawResponse, RawResponse>>(r => r with { Fault = BodyFault.Stall, FaultAfter = 0, StallFor = TimeSpan.FromSeconds(20) }, 10).ToArray());
        var options = TestHub.Options(_stub, _cache);
        options.Retry.MaxRetries = 1;
        options.ReadTimeout = TimeSpan.FromMilliseconds(300);

        var error = await Assert.ThrowsAsync<HubException>(() => DownloadLfsAsync(options));

        Assert.Contains("stopped at 0 of 400000 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await TestHub.AssertEveryBlobVerifiesAsync(_cache));
    }

    private static RawResponse Corrupt(RawResponse r)
    {
        var corrupted = (byte[])r.Body.Clone();
        corrupted[corrupted.Length / 2] ^= 0xFF;
        return r with { Body = corrupted };
    }

    [Fact]
    public async Task Wrong_bytes_once_are_discarded_and_downloaded_again_from_zero_in_the_same_run()
    {
        _stub.FailCdn(_lfs.Sha256, Corrupt);

        var path = await DownloadLfsAsync();

        await AssertVerifiedAsync(path);
        Assert.Equal(2, _stub.CdnRequestCount(_lfs.Sha256));
        Assert.All(_stub.Cdn.Requests, r => Assert.Null(r.Header("Range")));
    }

    [Fact]
    public async Task Wrong_bytes_twice_raise_integrity_exception_and_leave_no_blob()
    {
        _stub.FailCdn(_lfs.Sha256, Corrupt, Corrupt);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => DownloadLfsAsync());

        Assert.Equal(_lfs.Sha256, error.Expected);
        Assert.Contains("sha256", error.Message, StringComparison.Ordinal);
        var blobs = Path.Combine(_cache, "models--ada--faulty", "blobs");
        Assert.Empty(Directory.EnumerateFiles(blobs));
        Assert.False(Directory.Exists(Path.Combine(_cache, "models--ada--faulty", "snapshots", HubStub.CommitA)) &&
            Directory.EnumerateFileSystemEntries(Path.Combine(_cache, "models--ada--faulty", "snapshots", HubStub.CommitA)).Any());
    }

    [Fact]
    public async Task Wrong_bytes_of_a_regular_file_fail_the_git_sha1_check()
    {
        _stub.Repo(RepoId).Files["config.json"] = new StubFile("config.json", "{\"hidden_size\": 9}"u8.ToArray(), lfs: false);
        // The server's bytes changed but the etag we verify against is the old one.
        using var hub = TestHub.Client(_stub, _cache);
        var metadata = await hub.Files.GetFileMetadataAsync(RepoId, "config.json");
        var forged = metadata with { Etag = _regular.GitSha1 };
        var blobs = Path.Combine(_cache, "models--ada--faulty", "blobs");
        Directory.CreateDirectory(blobs);
        var downloader = new Adapters.Hub.Download.BlobDownloader(hub.Connection);

        var error = await Assert.ThrowsAsync<IntegrityException>(() =>
            downloader.DownloadAsync(forged, Path.Combine(blobs, forged.Etag + ".incomplete"), "config.json", null, CancellationToken.None));

        Assert.Contains("git-sha1", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(blobs));
    }

    [Fact]
    public async Task Too_many_bytes_raise_integrity_exception()
    {
        _stub.FailCdn(_lfs.Sha256, r => r with { Body = [.. r.Body, .. new byte[10]] });

        await Assert.ThrowsAsync<IntegrityException>(() => DownloadLfsAsync());

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_cache, "models--ada--faulty", "blobs")));
    }

    [Fact]
    public async Task A_200_answer_to_a_range_request_restarts_from_zero()
    {
        _stub.FailCdn(_lfs.Sha256,
            r => r with { Fault = BodyFault.Truncate, FaultAfter = 100_000 },
            r => new RawResponse(200, _content, new Dictionary<string, string> { ["Accept-Ranges"] = "none" }));

        var path = await DownloadLfsAsync();

        Assert.Equal("bytes=100000-", _stub.Cdn.Requests.Last().Header("Range"));
        await AssertVerifiedAsync(path);
    }

    [Fact]
    public async Task A_content_range_that_does_not_match_restarts_the_download()
    {
        _stub.FailCdn(_lfs.Sha256,
            r => r with { Fault = BodyFault.Truncate, FaultAfter = 100_000 },
            r => r with { Headers = new Dictionary<string, string> { ["Content-Range"] = $"bytes 5-{Size - 1}/{Size}" } });

        var path = await DownloadLfsAsync();

        Assert.Null(_stub.Cdn.Requests.Last().Header("Range"));
        await AssertVerifiedAsync(path);
    }

    [Fact]
    public async Task Headers_slower_than_the_attempt_timeout_are_retried()
    {
        _stub.FailHub("model.safetensors", new StubFault(0) { Delay = TimeSpan.FromSeconds(4) });
        var options = TestHub.Options(_stub, _cache);
        options.Retry.AttemptTimeout = TimeSpan.FromSeconds(1);
        var watch = Stopwatch.StartNew();

        var path = await DownloadLfsAsync(options);

        // The first HEAD was abandoned after 1 s instead of waiting 4 s (a loaded machine may need one more try).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"took {watch.Elapsed}");
        Assert.InRange(_stub.Arrivals.Count(a => a.StartsWith("HEAD ", StringComparison.Ordinal)), 2, 3);
        await AssertVerifiedAsync(path);
    }

    [Fact]
    public async Task A_body_longer_than_the_attempt_timeout_but_never_stalled_completes_in_one_request()
    {
        _stub.FailCdn(_lfs.Sha256, r => r with { Fault = BodyFault.Pause, FaultAfter = 100_000, StallFor = TimeSpan.FromMilliseconds(900) });
        var options = TestHub.Options(_stub, _cache);
        options.Retry.AttemptTimeout = TimeSpan.FromMilliseconds(300);
        options.ReadTimeout = TimeSpan.FromSeconds(3);

        var path = await DownloadLfsAsync(options);

        Assert.Equal(1, _stub.CdnRequestCount(_lfs.Sha256));
        await AssertVerifiedAsync(path);
    }

    [Fact]
    public async Task An_empty_file_is_verified_without_a_body()
    {
        var empty = _stub.AddFile(RepoId, "empty.txt", []);
        using var hub = TestHub.Client(_stub, _cache);

        var path = await hub.Files.DownloadFileAsync(RepoId, "empty.txt");

        Assert.Empty(await File.ReadAllBytesAsync(path));
        Assert.Equal("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", empty.GitSha1);
        Assert.True(File.Exists(Path.Combine(_cache, "models--ada--faulty", "blobs", empty.GitSha1)));
    }
}
