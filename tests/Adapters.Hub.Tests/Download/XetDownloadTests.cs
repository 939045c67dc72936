using System.Security.Cryptography;
using Adapters.Hub.Tests.Stubs;
using Adapters.Hub.Xet;

namespace Adapters.Hub.Tests.Download;

/// <summary>Downloads of Xet-stored files through reconstruction, against a stub Hub and a stub CAS.</summary>
public sealed class XetDownloadTests : IDisposable
{
    private const string RepoId = "ada/xet-adapter";
    private const string FilePath = "adapter_model.safetensors";
    private readonly HubStub _stub = new();
    private readonly XetCasStub _cas;
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-xet-cache-").FullName;

    public XetDownloadTests() => _cas = new XetCasStub(_stub);

    public void Dispose()
    {
        _cas.Dispose();
        _stub.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    private XetStubFile AddXetFile(int length, int chunksPerXorb, int termsPerXorb = 1, int seed = 3)
    {
        var content = TestHub.RandomBytes(length, seed);
        var xet = _cas.AddFile(content, chunksPerXorb, termsPerXorb);
        _stub.AddFile(RepoId, FilePath, content, lfs: true).XetHash = xet.FileHash.ToString();
        return xet;
    }

    [Fact]
    public async Task A_xet_file_is_rebuilt_from_xorb_ranges_and_verified()
    {
        var xet = AddXetFile(1_500_000, chunksPerXorb: 6, termsPerXorb: 2);
        using var hub = TestHub.Client(_stub, _cache);
        var progress = new ProgressLog();

        var path = await hub.Files.DownloadFileAsync(RepoId, FilePath, progress: progress);

        Assert.Equal(xet.Content, await File.ReadAllBytesAsync(path));
        Assert.Equal(1, await TestHub.AssertEveryBlobVerifiesAsync(_cache));
        // Progress rose term by term to the file's size.
        Assert.True(progress.Reports.Count > xet.Terms.Count / 2);
        Assert.Equal(xet.Content.Length, progress.Reports[^1].BytesTransferred);
        Assert.Equal(1, progress.Reports[^1].FilesCompleted);
        // No plain download: the CDN never saw a request.
        Assert.Empty(_stub.Cdn.Requests);
        // The read token came from the Hub with the Hub token; the CAS saw only the CAS token.
        Assert.Equal("Bearer " + TestHub.Token, Assert.Single(_cas.TokenRequests));
        var reconstruction = Assert.Single(_cas.Cas.Requests, r => r.Target.StartsWith("/v1/reconstructions/", StringComparison.Ordinal));
        Assert.Equal("/v1/reconstructions/" + xet.FileHash, reconstruction.Target);
        Assert.Equal("Bearer " + XetCasStub.CasToken, reconstruction.Header("Authorization"));
        Assert.DoesNotContain(_cas.Cas.Requests, r => r.Header("Authorization")?.Contains(TestHub.Token, StringComparison.Ordinal) == true);
        // Each xorb range was fetched once with Range, although two terms read it.
        Assert.True(xet.Xorbs.Count > 2);
        foreach (var xorb in xet.Xorbs)
        {
            var fetch = Assert.Single(_cas.XorbRequests(xorb.Hash));
            Assert.Equal($"bytes=0-{xorb.Bytes.Length - 1}", fetch.Header("Range"));
        }
    }

    [Fact]
    public async Task An_interrupted_xet_download_resumes_after_the_last_complete_term()
    {
        var xet = AddXetFile(1_500_000, chunksPerXorb: 4);
        var failing = xet.Xorbs[2].Hash;
        var options = TestHub.Options(_stub, _cache);
        options.MaxConcurrency = 1;
        // Every try at the third xorb breaks off mid-body, and the plain fallback is refused too.
        _cas.FailXorb(failing, Enumerable.Repeat<Func<RawResponse, RawResponse>>(r => r with { Fault = BodyFault.Reset, FaultAfter = 100 }, 4).ToArray());
        _stub.FailCdn(new HubStubSha(xet.Content).Value, Enumerable.Repeat<Func<RawResponse, RawResponse>>(_ => new RawResponse(503, []), 8).ToArray());
        using (var first = new HubClient(options))
        {
            await Assert.ThrowsAnyAsync<HubException>(() => first.Files.DownloadFileAsync(RepoId, FilePath));
        }
        var partial = Assert.Single(Directory.EnumerateFiles(Path.Combine(_cache, "models--ada--xet-adapter", "blobs"), "*.incomplete"));
        var twoTerms = xet.Xorbs[0].ChunkLengths.Sum() + xet.Xorbs[1].ChunkLengths.Sum();
        Assert.Equal(twoTerms, new FileInfo(partial).Length);

        using var second = new HubClient(options);
        var path = await second.Files.DownloadFileAsync(RepoId, FilePath);

        Assert.Equal(xet.Content, await File.ReadAllBytesAsync(path));
        // The first two xorbs were fetched once, in the first run only.
        Assert.Single(_cas.XorbRequests(xet.Xorbs[0].Hash));
        Assert.Single(_cas.XorbRequests(xet.Xorbs[1].Hash));
        Assert.Equal(5, _cas.XorbRequests(failing).Count());
    }

    [Fact]
    public async Task A_xorb_with_wrong_chunk_bytes_fails_the_file_hash_and_leaves_nothing()
    {
        var xet = AddXetFile(600_000, chunksPerXorb: 3, seed: 5);
        // Same lengths, other bytes: random data is stored uncompressed, so flipping a stored byte changes a chunk's
        // content but no length; only the chunk hashes can tell.
        var target = xet.Xorbs[1];
        Assert.Equal(XetCompressionScheme.None, XorbChunkHeader.Read(target.Bytes).Scheme);
        _cas.Corrupt(target.Hash, bytes =>
        {
            var copy = (byte[])bytes.Clone();
            copy[XorbChunkHeader.Size + 10] ^= 0xFF;
            return copy;
        });
        using var hub = TestHub.Client(_stub, _cache);

        var error = await Assert.ThrowsAnyAsync<HubException>(() => hub.Files.DownloadFileAsync(RepoId, FilePath));

        var integrity = Assert.IsType<IntegrityException>(error);
        Assert.True(integrity.IsHashMismatch);
        Assert.Contains(xet.FileHash.ToString(), integrity.Message);
        // Tried twice (the second time from byte 0), then nothing is left behind.
        Assert.Equal(2, _cas.XorbRequests(target.Hash).Count());
        Assert.DoesNotContain(Directory.EnumerateFiles(_cache, "*", SearchOption.AllDirectories), f => f.Contains("blobs", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_xet_off_the_file_comes_over_plain_http()
    {
        var xet = AddXetFile(300_000, chunksPerXorb: 4);
        var options = TestHub.Options(_stub, _cache);
        options.UseXet = false;
        using var hub = new HubClient(options);

        var path = await hub.Files.DownloadFileAsync(RepoId, FilePath);

        Assert.Equal(xet.Content, await File.ReadAllBytesAsync(path));
        Assert.Empty(_cas.Cas.Requests);
        Assert.NotEmpty(_stub.Cdn.Requests);
    }

    [Fact]
    public async Task A_cas_that_cannot_answer_falls_back_to_plain_http()
    {
        var content = TestHub.RandomBytes(200_000, 9);
        // The Hub announces a Xet hash the CAS does not know (404 on the reconstruction).
        _stub.AddFile(RepoId, FilePath, content, lfs: true).XetHash = new string('c', 64);
        using var hub = TestHub.Client(_stub, _cache);

        var path = await hub.Files.DownloadFileAsync(RepoId, FilePath);

        Assert.Equal(content, await File.ReadAllBytesAsync(path));
        Assert.Single(_cas.Cas.Requests);
        Assert.NotEmpty(_stub.Cdn.Requests);
    }

    /// <summary>Collects progress reports synchronously, in order.</summary>
    private sealed class ProgressLog : IProgress<Adapters.Hub.Download.TransferProgress>
    {
        public List<Adapters.Hub.Download.TransferProgress> Reports { get; } = [];

        public void Report(Adapters.Hub.Download.TransferProgress value)
        {
            lock (Reports) Reports.Add(value);
        }
    }

    /// <summary>The SHA-256 the stub Hub names a blob by.</summary>
    private readonly record struct HubStubSha(byte[] Content)
    {
        public string Value => Convert.ToHexStringLower(SHA256.HashData(Content));
    }
}
