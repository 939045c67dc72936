using Adapters.Hub.Cache;
using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Tests.Cache;

/// <summary>The cache tools and the client on a cache laid out by Python's <c>huggingface_hub</c>.</summary>
public sealed class PythonCacheTests : IDisposable
{
    private readonly PythonCacheFixture _cache = new();

    public void Dispose() => _cache.Dispose();

    [Fact]
    public void Scan_lists_repos_revisions_refs_files_and_sizes()
    {
        var report = CacheScanner.Scan(_cache.Root);

        Assert.Empty(report.Warnings);
        Assert.Equal(2, report.Repos.Count);
        var dataset = report.Repos[0];
        Assert.Equal(("org/eval-set", RepoType.Dataset), (dataset.RepoId, dataset.RepoType));
        Assert.Empty(dataset.Refs);
        Assert.Equal("data/test.csv", Assert.Single(Assert.Single(dataset.Revisions).Files).Path);

        var model = report.Repos[1];
        Assert.Equal(("ada/tiny-adapter", RepoType.Model), (model.RepoId, model.RepoType));
        Assert.Equal(new Dictionary<string, string> { ["main"] = PythonCacheFixture.MainCommit, ["refs/pr/1"] = PythonCacheFixture.MainCommit }, model.Refs);
        Assert.Equal([PythonCacheFixture.OldCommit, PythonCacheFixture.MainCommit], model.Revisions.Select(r => r.CommitHash));
        var main = model.Revisions[1];
        Assert.Equal(["main", "refs/pr/1"], main.Refs);
        Assert.Equal(["README.md", "adapter_config.json", "adapter_model.safetensors", "head/pytorch_model.bin"], main.Files.Select(f => f.Path));
        var blobSizes = Directory.EnumerateFiles(Path.Combine(_cache.ModelFolder, "blobs")).Sum(b => new FileInfo(b).Length);
        Assert.Equal(blobSizes, model.SizeOnDisk);
        Assert.Equal(5, model.BlobCount);
        Assert.Equal(4096 + 2048 + main.Files.Where(f => !f.Path.EndsWith(".bin", StringComparison.Ordinal) && !f.Path.EndsWith(".safetensors", StringComparison.Ordinal)).Sum(f => f.Size), main.SizeOnDisk);
        Assert.Equal(Path.Combine(_cache.ModelFolder, "blobs", PythonCacheFixture.WeightsEtag), main.Files.Single(f => f.Path == "adapter_model.safetensors").BlobPath);
    }

    [Fact]
    public async Task Verify_passes_a_healthy_cache_and_names_corrupted_and_dangling_entries()
    {
        var healthy = await CacheVerifier.VerifyAsync(_cache.Root);
        Assert.True(healthy.IsHealthy);
        Assert.Equal(6, healthy.BlobsChecked);

        var weights = Path.Combine(_cache.ModelFolder, "blobs", PythonCacheFixture.WeightsEtag);
        var bytes = await File.ReadAllBytesAsync(weights);
        bytes[100] ^= 1;
        await File.WriteAllBytesAsync(weights, bytes);
        File.Delete(Path.Combine(Root("datasets--org--eval-set"), "blobs", "fc19a0f5b9980b76d6432a091770505e02ef9589"));

        var broken = await CacheVerifier.VerifyAsync(_cache.Root);

        var corrupt = Assert.Single(broken.Corrupted);
        Assert.Equal(weights, corrupt.BlobPath);
        Assert.Equal(PythonCacheFixture.WeightsEtag, corrupt.Expected);
        Assert.NotEqual(corrupt.Expected, corrupt.Actual);
        Assert.Contains(broken.DanglingEntries, d => d.Contains("test.csv", StringComparison.Ordinal));
        Assert.False(broken.IsHealthy);
    }

    [Fact]
    public async Task Fingerprints_speed_up_re_checks_but_still_catch_changed_content()
    {
        var first = await CacheVerifier.VerifyAsync(_cache.Root, useFingerprints: true);
        var second = await CacheVerifier.VerifyAsync(_cache.Root, useFingerprints: true);
        Assert.Equal(0, first.FingerprintHits);
        Assert.Equal(6, second.FingerprintHits);
        Assert.True(File.Exists(Path.Combine(_cache.Root, ".locks", "models--ada--tiny-adapter", PythonCacheFixture.WeightsEtag + ".verified")));

        // Same size, same timestamp, different bytes: the XxHash128 no longer matches, so the full hash runs.
        var weights = Path.Combine(_cache.ModelFolder, "blobs", PythonCacheFixture.WeightsEtag);
        var stamp = File.GetLastWriteTimeUtc(weights);
        var bytes = await File.ReadAllBytesAsync(weights);
        bytes[7] ^= 0x40;
        await File.WriteAllBytesAsync(weights, bytes);
        File.SetLastWriteTimeUtc(weights, stamp);

        var third = await CacheVerifier.VerifyAsync(_cache.Root, useFingerprints: true);
        Assert.Equal(5, third.FingerprintHits);
        Assert.Equal(weights, Assert.Single(third.Corrupted).BlobPath);
    }

    [Fact]
    public async Task Prune_removes_unreferenced_revisions_their_blobs_and_repos_without_refs()
    {
        var trees = Directory.CreateDirectory(Path.Combine(_cache.ModelFolder, "trees")).FullName;
        await File.WriteAllTextAsync(Path.Combine(trees, PythonCacheFixture.OldCommit + ".json"), "{\"format_version\":1,\"files\":{}}");
        await File.WriteAllTextAsync(Path.Combine(trees, PythonCacheFixture.MainCommit + ".json"), "{\"format_version\":1,\"files\":{}}");
        var dry = CachePruner.Prune(_cache.Root, dryRun: true);
        Assert.Equal([$"model:ada/tiny-adapter@{PythonCacheFixture.OldCommit}"], dry.DeletedRevisions);
        Assert.Equal(["dataset:org/eval-set"], dry.DeletedRepos);
        Assert.True(Directory.Exists(Path.Combine(_cache.ModelFolder, "snapshots", PythonCacheFixture.OldCommit)));

        var result = CachePruner.Prune(_cache.Root);

        Assert.Equal(dry.DeletedBlobs, result.DeletedBlobs);
        Assert.Equal(2, result.DeletedBlobs.Count);
        Assert.Contains(Path.Combine(_cache.ModelFolder, "blobs", PythonCacheFixture.OldConfigEtag), result.DeletedBlobs);
        Assert.False(Directory.Exists(Path.Combine(_cache.ModelFolder, "snapshots", PythonCacheFixture.OldCommit)));
        Assert.Equal([PythonCacheFixture.MainCommit + ".json"], Directory.EnumerateFiles(trees).Select(Path.GetFileName));
        Assert.True(File.Exists(Path.Combine(_cache.ModelFolder, "blobs", PythonCacheFixture.WeightsEtag)));
        Assert.False(Directory.Exists(Root("datasets--org--eval-set")));
        Assert.False(Directory.Exists(Path.Combine(_cache.Root, ".locks", "datasets--org--eval-set")));
        var after = CacheScanner.Scan(_cache.Root);
        Assert.Equal(PythonCacheFixture.MainCommit, Assert.Single(Assert.Single(after.Repos).Revisions).CommitHash);
        Assert.True((await CacheVerifier.VerifyAsync(_cache.Root)).IsHealthy);
    }

    [Fact]
    public async Task Offline_client_resolves_branches_nested_refs_and_snapshots_from_a_python_cache()
    {
        using var hub = new HubClient(new HubClientOptions { CacheDirectory = _cache.Root, Offline = true });

        var weights = await hub.Files.DownloadFileAsync("ada/tiny-adapter", "head/pytorch_model.bin");
        var viaPr = await hub.Files.DownloadFileAsync("ada/tiny-adapter", "adapter_config.json", revision: "refs/pr/1");
        var old = await hub.Files.DownloadFileAsync("ada/tiny-adapter", "adapter_config.json", revision: PythonCacheFixture.OldCommit);
        var snapshot = await hub.Files.SnapshotDownloadAsync("ada/tiny-adapter", allowPatterns: ["*.json", "*.md"]);

        Assert.Equal(2048, (await File.ReadAllBytesAsync(weights)).Length);
        Assert.Equal("{\"r\": 8, \"alpha\": 16}\n", await File.ReadAllTextAsync(viaPr));
        Assert.Equal("{\"r\": 4, \"alpha\": 8}\n", await File.ReadAllTextAsync(old));
        Assert.Equal(PythonCacheFixture.MainCommit, snapshot.CommitHash);
        Assert.Equal(["README.md", "adapter_config.json"], snapshot.Files);
        // The fixture records tokenizer.json as missing at main (.no_exist): a known answer, not "never asked".
        await Assert.ThrowsAsync<KnownMissingEntryException>(() => hub.Files.DownloadFileAsync("ada/tiny-adapter", "tokenizer.json"));
    }

    [Fact]
    public async Task Online_downloads_into_a_python_cache_reuse_its_snapshots_and_add_beside_them()
    {
        using var stub = new HubStub();
        var repo = stub.Repo("ada/tiny-adapter", commit: PythonCacheFixture.MainCommit);
        stub.AddFile("ada/tiny-adapter", "adapter_config.json", "{\"r\": 8, \"alpha\": 16}\n");
        stub.AddFile("ada/tiny-adapter", "tokenizer_config.json", "{\"do_lower_case\": true}");
        using var hub = new HubClient(TestHub.Options(stub, _cache.Root));

        var existing = await hub.Files.DownloadFileAsync("ada/tiny-adapter", "adapter_config.json");
        var added = await hub.Files.DownloadFileAsync("ada/tiny-adapter", "tokenizer_config.json");

        Assert.Equal(Path.Combine(_cache.ModelFolder, "snapshots", PythonCacheFixture.MainCommit, "adapter_config.json"), existing);
        Assert.DoesNotContain(stub.HubRequests, r => r.Method == "GET" && r.AbsolutePath.EndsWith("adapter_config.json", StringComparison.Ordinal));
        Assert.Equal(Path.Combine(_cache.ModelFolder, "snapshots", repo.Commit, "tokenizer_config.json"), added);
        Assert.Equal("../../blobs/" + repo.Files["tokenizer_config.json"].GitSha1, new FileInfo(added).LinkTarget);
        Assert.True((await CacheVerifier.VerifyAsync(_cache.Root)).IsHealthy);
    }

    private string Root(string folder) => Path.Combine(_cache.Root, folder);
}
