using Adapters.Hub.Auth;
using Adapters.Hub.Cache;
using Adapters.Hub.Download;
using Adapters.Hub.Repositories;
using Adapters.Hub.Tests.Stubs;
using Adapters.Testing;

namespace Adapters.Hub.Tests.Cache;

/// <summary>
/// The cache and token files Python <c>huggingface_hub</c> 1.x writes (fixtures/hub/python-1x): cached tree
/// listings, per-download partial names, <c>.no_exist</c> markers, 0664 locks and <c>stored_tokens</c>.
/// </summary>
public sealed class PythonOneXCacheTests : IDisposable
{
    private const string RepoId = "ada/py1x-adapter";
    private const string Commit = "3c1f0e5d2b4a69788796a5b4c3d2e1f0a9b8c7d6";
    private const string WeightsSha256 = "d67c656e01756650d77717b0839985a056ec28ffe174601d690fc407a2ceffca";
    private const string ConfigSha1 = "23aaaf258f90108f1e4b5c30785f0f20fa5bbc80";
    private const string ReadmeSha1 = "f343bdf11560d742fe529daa3117b697352290fe";
    private static readonly byte[] s_weights = Enumerable.Range(0, 4096).Select(i => (byte)(i % 251)).ToArray();
    private static readonly byte[] s_readme = "---\nlibrary_name: adapter-transformers\n---\n# py1x adapter\n"u8.ToArray();
    private static readonly byte[] s_config = "{\"r\": 8, \"alpha\": 16}\n"u8.ToArray();

    private readonly string _root = Directory.CreateTempSubdirectory("adapters-python-1x-").FullName;

    public PythonOneXCacheTests() => CopyTree(TestPaths.Fixture("hub", "python-1x"), _root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string CacheRoot => Path.Combine(_root, "cache");
    private string RepoFolder => Path.Combine(CacheRoot, "models--ada--py1x-adapter");
    private string Blobs => Path.Combine(RepoFolder, "blobs");

    private HubClient OfflineClient() => new(new HubClientOptions { CacheDirectory = CacheRoot, Offline = true });

    [Fact]
    public async Task A_no_exist_marker_is_a_typed_known_missing_answer_offline()
    {
        using var hub = OfflineClient();

        var known = hub.Files.LookUpCachedFile(RepoId, "tokenizer.json");
        var never = hub.Files.LookUpCachedFile(RepoId, "vocab.txt");

        Assert.Equal(CachedFileStatus.KnownMissing, known.Status);
        Assert.Equal(Commit, known.CommitHash);
        Assert.Equal(CachedFileStatus.NotCached, never.Status);
        Assert.Null(hub.Files.TryGetCachedFile(RepoId, "tokenizer.json"));
        Assert.Equal(CachedFileStatus.Cached, hub.Files.LookUpCachedFile(RepoId, "adapter_config.json").Status);

        var missing = await Assert.ThrowsAsync<KnownMissingEntryException>(() => hub.Files.DownloadFileAsync(RepoId, "tokenizer.json"));
        Assert.Equal(Commit, missing.CommitHash);
        var unknown = await Assert.ThrowsAsync<LocalEntryNotFoundException>(() => hub.Files.DownloadFileAsync(RepoId, "vocab.txt"));
        Assert.IsNotType<IncompleteSnapshotException>(unknown);
    }

    [Fact]
    public async Task Offline_snapshot_with_a_cached_listing_names_the_files_it_lacks()
    {
        using var hub = OfflineClient();

        var error = await Assert.ThrowsAsync<IncompleteSnapshotException>(() => hub.Files.SnapshotDownloadAsync(RepoId));
        Assert.Equal(["README.md", "adapter_model.safetensors"], error.MissingFiles);

        var configOnly = await hub.Files.SnapshotDownloadAsync(RepoId, allowPatterns: ["*.json"]);
        Assert.Equal(["adapter_config.json"], configOnly.Files);
    }

    [Fact]
    public void The_listing_reads_as_python_wrote_it_and_is_written_back_byte_for_byte()
    {
        var python = Path.Combine(RepoFolder, "trees", Commit + ".json");
        var listing = TreeCache.Read(RepoFolder, Commit);

        Assert.NotNull(listing);
        Assert.Equal(["README.md", "adapter_config.json", "adapter_model.safetensors"], listing.Keys);
        Assert.Equal(WeightsSha256, listing["adapter_model.safetensors"].ContentHash);
        Assert.Equal(ConfigSha1, listing["adapter_config.json"].ContentHash);

        var copy = Directory.CreateDirectory(Path.Combine(_root, "rewrite")).FullName;
        var entries = listing.Select(kv => new RepoTreeEntry
        {
            Type = "file",
            Path = kv.Key,
            Oid = kv.Value.BlobId,
            Size = kv.Value.Size,
            Lfs = kv.Value.LfsSha256 is { } sha ? new TreeLfs { Oid = sha, Size = kv.Value.LfsSize!.Value } : null,
        }).Reverse().Append(new RepoTreeEntry { Type = "directory", Path = "folder", Oid = ConfigSha1 });
        var written = TreeCache.Write(copy, Commit, entries);

        Assert.Equal(File.ReadAllBytes(python), File.ReadAllBytes(written!));
    }

    [Fact]
    public void Unknown_formats_and_malformed_xet_hashes_are_ignored_as_python_ignores_them()
    {
        var path = TreeCache.PathFor(RepoFolder, Commit);
        File.WriteAllText(path, "{\"format_version\": 2, \"files\": {}}");
        Assert.Null(TreeCache.Read(RepoFolder, Commit));
        File.WriteAllText(path, "{\"format_version\": 1, \"files\": {\"a\": {\"size\": 1, \"blob_id\": \"x\", \"xet_hash\": \"short\"}}}");
        Assert.Null(TreeCache.Read(RepoFolder, Commit));
        File.WriteAllText(path, "{\"format_version\": 1, \"files\": {\"../escape\": {\"size\": 1, \"blob_id\": \"x\"}}}");
        Assert.Null(TreeCache.Read(RepoFolder, Commit));
        Assert.Null(TreeCache.Write(RepoFolder, Commit, [new RepoTreeEntry { Type = "file", Path = "a", Oid = ConfigSha1, XetHash = "not-hex" }]));
    }

    [Fact]
    public async Task Partials_in_both_naming_schemes_are_resumed_and_then_gone()
    {
        using var stub = new HubStub();
        stub.Repo(RepoId, commit: Commit);
        stub.AddFile(RepoId, "adapter_config.json", s_config);
        stub.AddFile(RepoId, "README.md", s_readme);
        stub.AddFile(RepoId, "adapter_model.safetensors", s_weights, lfs: true);
        using var hub = TestHub.Client(stub, CacheRoot);

        var snapshot = await hub.Files.SnapshotDownloadAsync(RepoId);

        Assert.Equal(s_weights, await File.ReadAllBytesAsync(Path.Combine(snapshot.Path, "adapter_model.safetensors")));
        Assert.Equal(s_readme, await File.ReadAllBytesAsync(Path.Combine(snapshot.Path, "README.md")));
        // The Python 1.18+ partial (<etag>.<8 hex>.incomplete) held 1500 bytes: only the rest was asked for.
        Assert.Equal(["bytes=1500-"], stub.Cdn.Requests.Select(r => r.Header("Range") ?? "none").ToArray());
        Assert.Empty(Directory.EnumerateFiles(Blobs, "*.incomplete"));
        // The listing was cached already: no /tree request for a commit the cache has listed.
        Assert.DoesNotContain(stub.HubRequests, r => r.AbsolutePath.Contains("/tree/", StringComparison.Ordinal));
        Assert.Equal(3, await TestHub.AssertEveryBlobVerifiesAsync(CacheRoot));
    }

    [Fact]
    public void Prune_deletes_abandoned_partials_of_both_schemes_but_not_one_being_written()
    {
        var cache = new HubCache(CacheRoot);
        using (CacheLock.TryAcquire(cache.LockPath(RepoFolder, ReadmeSha1)))
        {
            var whileWriting = CachePruner.Prune(CacheRoot);
            Assert.Equal([Path.Combine(Blobs, WeightsSha256 + ".5e2b9a1c.incomplete")], whileWriting.DeletedPartials);
            Assert.True(File.Exists(Path.Combine(Blobs, ReadmeSha1 + ".incomplete")));
        }

        var after = CachePruner.Prune(CacheRoot);

        Assert.Equal([Path.Combine(Blobs, ReadmeSha1 + ".incomplete")], after.DeletedPartials);
        Assert.Equal(20, after.FreedBytes);
        Assert.Empty(Directory.EnumerateFiles(Blobs, "*.incomplete"));
        Assert.True(File.Exists(Path.Combine(Blobs, ConfigSha1)));
    }

    [Fact]
    public async Task Lock_files_are_group_writable_as_python_makes_them()
    {
        if (OperatingSystem.IsWindows()) return;
        var path = Path.Combine(_root, "fresh.lock");
        var old = Path.Combine(_root, "old.lock");
        File.WriteAllText(old, "");
        File.SetUnixFileMode(old, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        using (await CacheLock.AcquireAsync(path)) { }
        using (await CacheLock.AcquireAsync(old)) { }

        Assert.Equal(CacheLock.LockFileMode, File.GetUnixFileMode(path));
        Assert.Equal(CacheLock.LockFileMode, File.GetUnixFileMode(old));
        Assert.Equal("rw-rw-r--", UnixModeString(CacheLock.LockFileMode));
    }

    [Fact]
    public void Stored_tokens_written_by_python_read_with_interpolation_off()
    {
        var store = new TokenStore(Path.Combine(_root, "home", "token"));

        var tokens = store.ReadStoredTokens();

        Assert.Equal("hf_fixture_active_token", store.ReadActiveToken());
        Assert.Equal(["ci-write", "laptop"], tokens.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("hf_fixture%laptop_token", tokens["laptop"]);
    }

    [Fact]
    public void Logout_by_name_removes_that_secret_and_the_active_file_only_when_it_holds_it()
    {
        var store = new TokenStore(Path.Combine(_root, "home", "token"));

        store.Logout("laptop");
        Assert.Equal("[ci-write]\nhf_token = hf_fixture_active_token\n\n", File.ReadAllText(store.StoredTokensPath));
        Assert.True(File.Exists(store.TokenPath));
        Assert.DoesNotContain("refresh", File.ReadAllText(store.StoredTokensPath), StringComparison.Ordinal);

        store.Logout("ci-write");
        Assert.False(File.Exists(store.TokenPath));
        Assert.Equal("", File.ReadAllText(store.StoredTokensPath));
        Assert.Throws<ArgumentException>(() => store.Logout("nobody"));
    }

    [Fact]
    public void Save_replaces_the_whole_section_keeps_the_others_sorted_and_logout_removes_every_secret()
    {
        var store = new TokenStore(Path.Combine(_root, "home", "token"));

        store.Save("laptop", "hf_new_laptop");
        store.Save("a-first", "hf_a");

        Assert.Equal(
            "[a-first]\nhf_token = hf_a\n\n[ci-write]\nhf_token = hf_fixture_active_token\n\n[laptop]\nhf_token = hf_new_laptop\n\n",
            File.ReadAllText(store.StoredTokensPath));
        Assert.Equal("hf_a", File.ReadAllText(store.TokenPath));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.StoredTokensPath));

        var removed = store.Logout();

        Assert.Equal([store.TokenPath, store.StoredTokensPath], removed);
        Assert.False(File.Exists(store.StoredTokensPath));
    }

    private static string UnixModeString(UnixFileMode mode) => string.Concat(
        new[] { (UnixFileMode.UserRead, 'r'), (UnixFileMode.UserWrite, 'w'), (UnixFileMode.UserExecute, 'x'),
                (UnixFileMode.GroupRead, 'r'), (UnixFileMode.GroupWrite, 'w'), (UnixFileMode.GroupExecute, 'x'),
                (UnixFileMode.OtherRead, 'r'), (UnixFileMode.OtherWrite, 'w'), (UnixFileMode.OtherExecute, 'x') }
            .Select(p => mode.HasFlag(p.Item1) ? p.Item2 : '-'));

    private static void CopyTree(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var destination = Path.Combine(target, entry.Name);
            if (entry.LinkTarget is { } link) File.CreateSymbolicLink(destination, link);
            else if (entry is DirectoryInfo) CopyTree(entry.FullName, destination);
            else File.Copy(entry.FullName, destination);
        }
    }
}
