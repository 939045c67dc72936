using System.Diagnostics;
using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Tests.Download;

/// <summary>
/// Sizes the server contradicts, non-hash etags and files sharing them: each ends in a verified file or a
/// typed <see cref="IntegrityException"/> quickly, never in a loop, and never with two files on one blob.
/// </summary>
public sealed class PullIntegrityTests : IDisposable
{
    private const string RepoId = "ada/integrity";
    private const int Size = 200_000;
    private readonly HubStub _stub = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-hub-integrity-").FullName;
    private readonly byte[] _content = TestHub.RandomBytes(Size, seed: 21);

    public void Dispose()
    {
        _stub.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    private string RepoFolder => Path.Combine(_cache, "models--ada--integrity");
    private string Blobs => Path.Combine(RepoFolder, "blobs");

    [Fact]
    public async Task A_hub_announcing_more_bytes_than_the_file_has_is_an_integrity_error_not_a_loop()
    {
        var file = _stub.AddFile(RepoId, "model.safetensors", _content, lfs: true);
        file.AnnouncedSize = Size + 1000;
        using var hub = TestHub.Client(_stub, _cache);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<IntegrityException>(() => hub.Files.DownloadFileAsync(RepoId, "model.safetensors"));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal((Size + 1000).ToString(), error.Expected);
        Assert.Equal(Size.ToString(), error.Actual);
        Assert.Equal(1, _stub.CdnRequestCount(file.Sha256));
        Assert.Empty(Directory.EnumerateFiles(Blobs));
    }

    [Fact]
    public async Task A_range_refused_with_the_real_length_ends_a_resume_with_an_integrity_error()
    {
        // A previous run received the whole (shorter) file; the Hub announces more, so the resume asks past the end.
        var file = _stub.AddFile(RepoId, "model.safetensors", _content, lfs: true);
        file.AnnouncedSize = Size + 1000;
        Directory.CreateDirectory(Blobs);
        await File.WriteAllBytesAsync(Path.Combine(Blobs, file.Sha256 + ".incomplete"), _content);
        using var hub = TestHub.Client(_stub, _cache);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => hub.Files.DownloadFileAsync(RepoId, "model.safetensors"));

        Assert.Contains($"bytes */{Size}", error.Message, StringComparison.Ordinal);
        Assert.Equal([$"bytes={Size}-"], _stub.Cdn.Requests.Select(r => r.Header("Range") ?? "none").ToArray());
        Assert.Empty(Directory.EnumerateFiles(Blobs));
    }

    [Fact]
    public async Task A_non_hash_etag_is_verified_against_the_lfs_sha256_from_paths_info()
    {
        var file = _stub.AddFile(RepoId, "model.safetensors", _content, lfs: true);
        file.EtagOverride = "proxy-etag-1";
        _stub.FailCdn(file.Sha256, Corrupt, Corrupt);
        using var hub = TestHub.Client(_stub, _cache);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => hub.Files.DownloadFileAsync(RepoId, "model.safetensors"));

        Assert.Equal(file.Sha256, error.Expected);
        Assert.Contains(_stub.HubRequests, r => r.Method == "POST" && r.AbsolutePath.EndsWith($"/paths-info/{HubStub.CommitA}", StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFiles(Blobs));

        // Healthy bytes under the same etag pass the same check.
        var path = await hub.Files.DownloadFileAsync(RepoId, "model.safetensors");
        Assert.Equal(_content, await File.ReadAllBytesAsync(path));
        Assert.True(File.Exists(Path.Combine(Blobs, "proxy-etag-1")));
    }

    [Fact]
    public async Task A_non_hash_etag_whose_listed_size_disagrees_is_an_integrity_error()
    {
        var file = _stub.AddFile(RepoId, "config.json", "{\"hidden_size\": 8}");
        file.EtagOverride = "weak-etag";
        file.AnnouncedSize = 5;
        using var hub = TestHub.Client(_stub, _cache);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => hub.Files.DownloadFileAsync(RepoId, "config.json"));

        Assert.Contains("repository listing", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Blobs) && Directory.EnumerateFiles(Blobs).Any());
    }

    [Fact]
    public async Task Two_files_sharing_a_non_hash_etag_each_keep_their_own_content()
    {
        var first = _stub.AddFile(RepoId, "a.json", "{\"which\": \"a\"}");
        var second = _stub.AddFile(RepoId, "b.json", "{\"which\": \"b\"}");
        first.EtagOverride = second.EtagOverride = "same-etag";
        using var hub = TestHub.Client(_stub, _cache);

        var a = await hub.Files.DownloadFileAsync(RepoId, "a.json");
        var b = await hub.Files.DownloadFileAsync(RepoId, "b.json");

        Assert.Equal("{\"which\": \"a\"}", await File.ReadAllTextAsync(a));
        Assert.Equal("{\"which\": \"b\"}", await File.ReadAllTextAsync(b));
        Assert.Equal("../../blobs/same-etag", new FileInfo(a).LinkTarget);
        Assert.Null(new FileInfo(b).LinkTarget);
        Assert.Equal(["same-etag"], Directory.EnumerateFiles(Blobs).Select(p => Path.GetFileName(p)).OfType<string>().ToArray());
    }

    [Fact]
    public async Task Cache_verify_checks_non_hash_blobs_against_the_cached_listing_and_reports_the_rest()
    {
        var file = _stub.AddFile(RepoId, "model.safetensors", _content, lfs: true);
        file.EtagOverride = "proxy-etag-2";
        var other = _stub.AddFile(RepoId, "notes.txt", "no listing for me");
        other.EtagOverride = "unlisted-etag";
        using (var hub = TestHub.Client(_stub, _cache))
        {
            await hub.Files.SnapshotDownloadAsync(RepoId, allowPatterns: ["model.safetensors"]);
            await hub.Files.DownloadFileAsync(RepoId, "notes.txt");
        }
        // The snapshot wrote trees/<commit>.json; drop notes.txt from it, as if it had never been listed.
        var tree = Path.Combine(RepoFolder, "trees", HubStub.CommitA + ".json");
        var listed = await File.ReadAllTextAsync(tree);
        var cut = listed.IndexOf(",\n  \"notes.txt\"", StringComparison.Ordinal);
        await File.WriteAllTextAsync(tree, listed[..cut] + "\n }\n}");

        var healthy = await Adapters.Hub.Cache.CacheVerifier.VerifyAsync(_cache);
        Assert.Equal(1, healthy.BlobsChecked);
        Assert.Equal([Path.Combine(Blobs, "unlisted-etag")], healthy.Unverifiable);

        var blob = Path.Combine(Blobs, "proxy-etag-2");
        var bytes = await File.ReadAllBytesAsync(blob);
        bytes[10] ^= 1;
        await File.WriteAllBytesAsync(blob, bytes);
        var corrupted = await Adapters.Hub.Cache.CacheVerifier.VerifyAsync(_cache);
        Assert.Equal(file.Sha256, Assert.Single(corrupted.Corrupted).Expected);
    }

    [Fact]
    public async Task A_multi_file_pull_takes_every_file_from_one_commit_even_when_a_commit_lands_mid_pull()
    {
        _stub.AddFile(RepoId, "adapter_config.json", "{\"r\": 8}");
        _stub.AddFile(RepoId, "head_config.json", "{\"labels\": 2}");
        var repo = _stub.Repo(RepoId);
        repo.Snapshots[HubStub.CommitB] = new(StringComparer.Ordinal)
        {
            ["adapter_config.json"] = new StubFile("adapter_config.json", "{\"r\": 16}"u8.ToArray(), lfs: false),
            ["head_config.json"] = new StubFile("head_config.json", "{\"labels\": 3}"u8.ToArray(), lfs: false),
        };
        // Someone pushes to main as soon as the first file has been asked for.
        _stub.Answered = request =>
        {
            if (request.StartsWith("HEAD ", StringComparison.Ordinal) && request.Contains("/resolve/", StringComparison.Ordinal)) repo.Branches["main"] = HubStub.CommitB;
        };
        var options = TestHub.Options(_stub, _cache);
        options.MaxConcurrency = 1;
        using var hub = new HubClient(options);

        var snapshot = await hub.Files.DownloadFilesAsync(RepoId, ["adapter_config.json", "head_config.json"]);

        Assert.Equal(HubStub.CommitA, snapshot.CommitHash);
        Assert.Equal("{\"r\": 8}", await File.ReadAllTextAsync(Path.Combine(snapshot.Path, "adapter_config.json")));
        Assert.Equal("{\"labels\": 2}", await File.ReadAllTextAsync(Path.Combine(snapshot.Path, "head_config.json")));
        Assert.All(_stub.HubRequests.Where(r => r.Method == "HEAD"), r => Assert.Contains($"/resolve/{HubStub.CommitA}/", r.AbsolutePath, StringComparison.Ordinal));
        Assert.Equal(1, _stub.HubRequests.Count(r => r.AbsolutePath.Contains("/revision/main", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_pull_request_ref_is_a_revision_for_files_and_the_cache()
    {
        _stub.AddFile(RepoId, "adapter_config.json", "{\"r\": 8}");
        var repo = _stub.Repo(RepoId);
        repo.Snapshots[HubStub.CommitB] = new(StringComparer.Ordinal) { ["adapter_config.json"] = new StubFile("adapter_config.json", "{\"r\": 16}"u8.ToArray(), lfs: false) };
        repo.Branches[Adapters.Hub.Discussions.DiscussionsClient.PullRequestRevision(3)] = HubStub.CommitB;
        using var hub = TestHub.Client(_stub, _cache);

        var path = await hub.Files.DownloadFileAsync(RepoId, "adapter_config.json", revision: "refs/pr/3");

        Assert.Equal("{\"r\": 16}", await File.ReadAllTextAsync(path));
        Assert.Contains(_stub.HubRequests, r => r.Method == "HEAD" && r.Url.Contains("/resolve/refs%2Fpr%2F3/", StringComparison.Ordinal));
        Assert.Equal(HubStub.CommitB, await File.ReadAllTextAsync(Path.Combine(RepoFolder, "refs", "refs", "pr", "3")));
        using var offline = new HubClient(new HubClientOptions { CacheDirectory = _cache, Offline = true });
        Assert.Equal(path, offline.Files.TryGetCachedFile(RepoId, "adapter_config.json", "refs/pr/3"));
    }

    [Theory]
    [InlineData("../../escape")]
    [InlineData("has spaces;and=signs")]
    public async Task An_etag_that_cannot_name_a_blob_is_an_integrity_error(string hostile)
    {
        var file = _stub.AddFile(RepoId, "config.json", "{}");
        file.EtagOverride = hostile;
        using var hub = TestHub.Client(_stub, _cache);

        var error = await Assert.ThrowsAsync<IntegrityException>(() => hub.Files.DownloadFileAsync(RepoId, "config.json"));

        Assert.Contains("neither a content hash nor a safe blob name", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Blobs));
    }

    private static RawResponse Corrupt(RawResponse r)
    {
        var corrupted = (byte[])r.Body.Clone();
        corrupted[corrupted.Length / 2] ^= 0xFF;
        return r with { Body = corrupted };
    }
}
