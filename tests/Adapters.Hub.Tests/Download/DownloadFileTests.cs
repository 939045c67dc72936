using System.Text;
using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Tests.Download;

public sealed class DownloadFileTests : IDisposable
{
    private const string RepoId = "ada/tiny-adapter";
    private readonly HubStub _stub = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-hub-cache-").FullName;

    public void Dispose()
    {
        _stub.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    private string RepoFolder => Path.Combine(_cache, "models--ada--tiny-adapter");

    [Fact]
    public async Task Regular_file_lands_in_pythons_cache_layout()
    {
        var file = _stub.AddFile(RepoId, "adapter_config.json", "{\"r\": 8}\n");
        using var hub = TestHub.Client(_stub, _cache);

        var path = await hub.Files.DownloadFileAsync(RepoId, "adapter_config.json");

        Assert.Equal(Path.Combine(RepoFolder, "snapshots", HubStub.CommitA, "adapter_config.json"), path);
        Assert.Equal("{\"r\": 8}\n", await File.ReadAllTextAsync(path));
        var link = new FileInfo(path);
        Assert.Equal($"../../blobs/{file.GitSha1}", link.LinkTarget);
        Assert.True(File.Exists(Path.Combine(RepoFolder, "blobs", file.GitSha1)));
        Assert.Equal(HubStub.CommitA, await File.ReadAllTextAsync(Path.Combine(RepoFolder, "refs", "main")));
        Assert.True(File.Exists(Path.Combine(_cache, ".locks", "models--ada--tiny-adapter", file.GitSha1 + ".lock")));
        Assert.StartsWith("Signature: 8a477f597d28d172789f06886806bc55", await File.ReadAllTextAsync(Path.Combine(_cache, "CACHEDIR.TAG")), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(RepoFolder, "blobs"), "*.incomplete"));
    }

    [Fact]
    public async Task Lfs_file_follows_the_redirect_to_another_host_without_the_token()
    {
        var content = TestHub.RandomBytes(300_000, seed: 1);
        var file = _stub.AddFile(RepoId, "weights/adapter_model.safetensors", content, lfs: true);
        using var hub = TestHub.Client(_stub, _cache);

        var path = await hub.Files.DownloadFileAsync(RepoId, "weights/adapter_model.safetensors");

        Assert.Equal(content, await File.ReadAllBytesAsync(path));
        Assert.Equal($"../../../blobs/{file.Sha256}", new FileInfo(path).LinkTarget);
        var hubCall = Assert.Single(_stub.HubRequests, r => r.Method == "HEAD");
        Assert.Equal("Bearer " + TestHub.Token, hubCall.Headers!["Authorization"].Single());
        Assert.Equal("identity", hubCall.Headers!["Accept-Encoding"].Single());
        Assert.NotEmpty(_stub.Cdn.Requests);
        Assert.All(_stub.Cdn.Requests, r => Assert.Null(r.Header("Authorization")));
        Assert.Equal(1, await TestHub.AssertEveryBlobVerifiesAsync(_cache));
    }

    [Fact]
    public async Task A_cached_commit_is_served_without_any_request()
    {
        _stub.AddFile(RepoId, "README.md", "# card\n");
        using var hub = TestHub.Client(_stub, _cache);
        var first = await hub.Files.DownloadFileAsync(RepoId, "README.md");
        var requestsBefore = _stub.HubRequests.Count();

        var second = await hub.Files.DownloadFileAsync(RepoId, "README.md", revision: HubStub.CommitA);

        Assert.Equal(first, second);
        Assert.Equal(requestsBefore, _stub.HubRequests.Count());
    }

    [Fact]
    public async Task Datasets_use_their_url_prefix_and_cache_folder()
    {
        _stub.AddFile("org/data", "train.csv", Encoding.UTF8.GetBytes("a,b\n1,2\n"), type: RepoType.Dataset);
        using var hub = TestHub.Client(_stub, _cache);

        var path = await hub.Files.DownloadFileAsync("org/data", "train.csv", repoType: RepoType.Dataset);

        Assert.Equal(Path.Combine(_cache, "datasets--org--data", "snapshots", HubStub.CommitA, "train.csv"), path);
        Assert.Contains(_stub.HubRequests, r => r.AbsolutePath == "/datasets/org/data/resolve/main/train.csv");
    }

    [Fact]
    public async Task A_missing_file_raises_entry_not_found_and_records_no_exist()
    {
        _stub.AddFile(RepoId, "README.md", "x");
        using var hub = TestHub.Client(_stub, _cache);

        var error = await Assert.ThrowsAsync<EntryNotFoundException>(() => hub.Files.DownloadFileAsync(RepoId, "missing.bin"));

        Assert.Equal(404, (int)error.StatusCode);
        Assert.StartsWith("Root=1-stub-", error.RequestId, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(RepoFolder, ".no_exist", HubStub.CommitA, "missing.bin")));
        Assert.Single(_stub.HubRequests);
    }

    [Fact]
    public async Task Typed_errors_come_from_x_error_code()
    {
        _stub.AddFile(RepoId, "README.md", "x");
        _stub.AddFile("ada/gated", "README.md", "x");
        _stub.Repo("ada/gated").Gated = true;
        using var hub = TestHub.Client(_stub, _cache);

        var missingRepo = await Assert.ThrowsAsync<RepositoryNotFoundException>(() => hub.Files.DownloadFileAsync("ada/nope", "README.md"));
        Assert.Equal("RepoNotFound", missingRepo.ErrorCode);
        Assert.Equal("Repository not found", missingRepo.ServerMessage);
        var gated = await Assert.ThrowsAsync<GatedRepositoryException>(() => hub.Files.DownloadFileAsync("ada/gated", "README.md"));
        Assert.IsAssignableFrom<RepositoryNotFoundException>(gated);
        await Assert.ThrowsAsync<RevisionNotFoundException>(() => hub.Files.DownloadFileAsync(RepoId, "README.md", revision: "v9"));
        // None of these is retried: each was asked once.
        Assert.Equal(3, _stub.HubRequests.Count());
    }

    [Fact]
    public async Task Server_errors_carry_status_request_id_and_message_after_the_retries()
    {
        _stub.AddFile(RepoId, "README.md", "x");
        _stub.FailHub("README.md", Enumerable.Repeat(new StubFault(500, Message: "database on fire"), 10).ToArray());
        var options = TestHub.Options(_stub, _cache);
        options.Retry.MaxRetries = 2;
        using var hub = new HubClient(options);

        var error = await Assert.ThrowsAsync<LocalEntryNotFoundException>(() => hub.Files.DownloadFileAsync(RepoId, "README.md"));

        var http = Assert.IsType<HubHttpException>(error.InnerException);
        Assert.Equal(500, (int)http.StatusCode);
        Assert.Equal("database on fire", http.ServerMessage);
        Assert.NotNull(http.RequestId);
        Assert.Contains("database on fire", http.Message, StringComparison.Ordinal);
        Assert.Equal(3, _stub.HubRequests.Count());
    }

    [Fact]
    public async Task Offline_mode_resolves_from_refs_and_snapshots_only()
    {
        _stub.AddFile(RepoId, "README.md", "cached");
        using (var online = TestHub.Client(_stub, _cache))
        {
            await online.Files.DownloadFileAsync(RepoId, "README.md");
        }
        var before = _stub.HubRequests.Count();
        var options = TestHub.Options(_stub, _cache);
        options.Offline = true;
        using var offline = new HubClient(options);

        var path = await offline.Files.DownloadFileAsync(RepoId, "README.md");
        var error = await Assert.ThrowsAsync<LocalEntryNotFoundException>(() => offline.Files.DownloadFileAsync(RepoId, "other.txt"));
        var snapshot = await offline.Files.SnapshotDownloadAsync(RepoId);

        Assert.Equal("cached", await File.ReadAllTextAsync(path));
        Assert.Contains("other.txt", error.Message, StringComparison.Ordinal);
        Assert.Contains("Offline", error.Message, StringComparison.Ordinal);
        Assert.Equal(HubStub.CommitA, snapshot.CommitHash);
        Assert.Equal(["README.md"], snapshot.Files);
        Assert.Equal(before, _stub.HubRequests.Count());
        Assert.Null(offline.Files.TryGetCachedFile(RepoId, "other.txt"));
        Assert.Equal(path, offline.Files.TryGetCachedFile(RepoId, "README.md"));
    }

    [Fact]
    public async Task An_unreachable_hub_falls_back_to_the_cache()
    {
        _stub.AddFile(RepoId, "README.md", "cached");
        using (var online = TestHub.Client(_stub, _cache))
        {
            await online.Files.DownloadFileAsync(RepoId, "README.md");
        }
        var options = TestHub.Options(_stub, _cache);
        options.Endpoint = new Uri("http://127.0.0.1:1/");
        options.Retry.MaxRetries = 1;
        using var hub = new HubClient(options);

        var path = await hub.Files.DownloadFileAsync(RepoId, "README.md");
        var error = await Assert.ThrowsAsync<LocalEntryNotFoundException>(() => hub.Files.DownloadFileAsync(RepoId, "never-downloaded.txt"));

        Assert.Equal("cached", await File.ReadAllTextAsync(path));
        Assert.IsType<HubException>(error.InnerException);
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("dir\\file.txt")]
    [InlineData("a/../../b")]
    [InlineData("C:/x")]
    public async Task Paths_that_escape_the_snapshot_are_refused(string path)
    {
        using var hub = TestHub.Client(_stub, _cache);

        await Assert.ThrowsAsync<ArgumentException>(() => hub.Files.DownloadFileAsync(RepoId, path));

        Assert.Empty(_stub.HubRequests);
    }

    [Fact]
    public async Task Invalid_repo_ids_are_refused_before_any_request()
    {
        using var hub = TestHub.Client(_stub, _cache);

        await Assert.ThrowsAsync<ArgumentException>(() => hub.Files.DownloadFileAsync("a--b/c", "x"));
        await Assert.ThrowsAsync<ArgumentException>(() => hub.Files.DownloadFileAsync("a/b/c", "x"));
        Assert.Empty(_stub.HubRequests);
    }

    [Fact]
    public async Task Branch_names_with_slashes_nest_under_refs()
    {
        _stub.AddFile(RepoId, "README.md", "pr");
        _stub.Repo(RepoId).Branches["refs/pr/1"] = HubStub.CommitA;
        using var hub = TestHub.Client(_stub, _cache);

        await hub.Files.DownloadFileAsync(RepoId, "README.md", revision: "refs/pr/1");

        Assert.Equal(HubStub.CommitA, await File.ReadAllTextAsync(Path.Combine(RepoFolder, "refs", "refs", "pr", "1")));
        Assert.Contains(_stub.HubRequests, r => r.Url.Contains("/resolve/refs%2Fpr%2F1/README.md", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_symlinks_the_snapshot_holds_a_copy()
    {
        _stub.AddFile(RepoId, "README.md", "copy me");
        var options = TestHub.Options(_stub, _cache);
        options.UseSymlinks = false;
        using var hub = new HubClient(options);

        var path = await hub.Files.DownloadFileAsync(RepoId, "README.md");

        Assert.Null(new FileInfo(path).LinkTarget);
        Assert.Equal("copy me", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Progress_reports_bytes_and_the_finished_file()
    {
        var content = TestHub.RandomBytes(50_000, seed: 2);
        _stub.AddFile(RepoId, "w.bin", content, lfs: true);
        using var hub = TestHub.Client(_stub, _cache);
        var reports = new List<Adapters.Hub.Download.TransferProgress>();

        await hub.Files.DownloadFileAsync(RepoId, "w.bin", progress: new SynchronousProgress(reports));

        var last = reports[^1];
        Assert.Equal(50_000, last.BytesTransferred);
        Assert.Equal(50_000, last.TotalBytes);
        Assert.Equal(1, last.FilesCompleted);
        Assert.Equal(1, last.TotalFiles);
    }
}

internal sealed class SynchronousProgress(List<Adapters.Hub.Download.TransferProgress> reports) : IProgress<Adapters.Hub.Download.TransferProgress>
{
    public void Report(Adapters.Hub.Download.TransferProgress value)
    {
        lock (reports) reports.Add(value);
    }
}
