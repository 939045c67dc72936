using Adapters.Hub.Download;
using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Tests.Download;

public sealed class SnapshotDownloadTests : IDisposable
{
    private const string RepoId = "ada/snap";
    private readonly HubStub _stub = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-hub-snapshot-").FullName;

    public SnapshotDownloadTests()
    {
        _stub.AddFile(RepoId, ".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n");
        _stub.AddFile(RepoId, "README.md", "# snap\n");
        _stub.AddFile(RepoId, "adapter_config.json", "{}");
        _stub.AddFile(RepoId, "adapter_model.safetensors", TestHub.RandomBytes(70_000, 3), lfs: true);
        _stub.AddFile(RepoId, "head/config.json", "{\"head\": true}");
        _stub.AddFile(RepoId, "head/pytorch_model.bin", TestHub.RandomBytes(20_000, 4), lfs: true);
        _stub.TreePageSize = 2;
    }

    public void Dispose()
    {
        _stub.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    [Fact]
    public async Task Downloads_every_file_following_tree_pagination()
    {
        using var hub = TestHub.Client(_stub, _cache);
        var reports = new List<TransferProgress>();

        var snapshot = await hub.Files.SnapshotDownloadAsync(RepoId, progress: new SynchronousProgress(reports), maxConcurrency: 3);

        Assert.Equal(HubStub.CommitA, snapshot.CommitHash);
        Assert.Equal(Path.Combine(_cache, "models--ada--snap", "snapshots", HubStub.CommitA), snapshot.Path);
        Assert.Equal(6, snapshot.Files.Count);
        foreach (var (path, file) in _stub.Repo(RepoId).Files)
        {
            Assert.Equal(file.Content, await File.ReadAllBytesAsync(Path.Combine(snapshot.Path, path)));
        }
        Assert.Equal(3, _stub.HubRequests.Count(r => r.AbsolutePath.Contains("/tree/", StringComparison.Ordinal)));
        Assert.Contains(_stub.HubRequests, r => r.AbsolutePath == $"/api/models/{RepoId}/revision/main");
        Assert.Equal(HubStub.CommitA, await File.ReadAllTextAsync(Path.Combine(_cache, "models--ada--snap", "refs", "main")));
        Assert.Equal(6, reports[^1].FilesCompleted);
        Assert.Equal(6, reports[^1].TotalFiles);
        Assert.Equal(reports[^1].TotalBytes, reports[^1].BytesTransferred);
        Assert.Equal(6, await TestHub.AssertEveryBlobVerifiesAsync(_cache));
    }

    [Fact]
    public async Task Allow_and_ignore_patterns_follow_fnmatch()
    {
        using var hub = TestHub.Client(_stub, _cache);

        var snapshot = await hub.Files.SnapshotDownloadAsync(RepoId, allowPatterns: ["*.json", "head/"], ignorePatterns: ["*.bin"]);

        Assert.Equal(["adapter_config.json", "head/config.json"], snapshot.Files.Order(StringComparer.Ordinal));
        Assert.False(File.Exists(Path.Combine(snapshot.Path, "README.md")));
        Assert.False(File.Exists(Path.Combine(snapshot.Path, "head", "pytorch_model.bin")));
    }

    [Fact]
    public async Task A_second_snapshot_of_the_same_commit_downloads_nothing()
    {
        using var hub = TestHub.Client(_stub, _cache);
        await hub.Files.SnapshotDownloadAsync(RepoId);
        var cdnBefore = _stub.Cdn.Requests.Count;
        var headsBefore = _stub.HubRequests.Count(r => r.Method == "HEAD");

        await hub.Files.SnapshotDownloadAsync(RepoId);

        Assert.Equal(cdnBefore, _stub.Cdn.Requests.Count);
        Assert.Equal(headsBefore, _stub.HubRequests.Count(r => r.Method == "HEAD"));
    }

    [Fact]
    public async Task A_tree_entry_escaping_the_snapshot_is_refused()
    {
        _stub.AddFile(RepoId, "../../evil.sh", "rm -rf /");
        using var hub = TestHub.Client(_stub, _cache);

        var error = await Assert.ThrowsAsync<HubException>(() => hub.Files.SnapshotDownloadAsync(RepoId));

        Assert.Contains("../../evil.sh", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_cache, "evil.sh")));
        Assert.False(File.Exists(Path.Combine(_cache, "models--ada--snap", "evil.sh")));
    }

    [Fact]
    public async Task A_missing_repository_is_reported_not_served_from_cache()
    {
        using var hub = TestHub.Client(_stub, _cache);

        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => hub.Files.SnapshotDownloadAsync("ada/absent"));
    }

    [Theory]
    [InlineData("*.json", "a/b/c.json", true)]
    [InlineData("*.json", "c.jsonx", false)]
    [InlineData("head/", "head/x/y.bin", true)]
    [InlineData("model-?.bin", "model-1.bin", true)]
    [InlineData("model-[0-9].bin", "model-a.bin", false)]
    [InlineData("model-[!0-9].bin", "model-a.bin", true)]
    [InlineData("*.JSON", "a.json", false)]
    public void Patterns_match_like_python_fnmatchcase(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, PathPatterns.Filter([path], [pattern], null).Any());
    }
}
