using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Adapters.Hub;
using Adapters.Hub.Upload;

namespace Adapters.Registry.Tests;

/// <summary>
/// Done-means of issue 17: Python 1.x's offline <c>snapshot_download(revision=&lt;sha&gt;)</c> succeeds on a cache our
/// client wrote. The lookup Python makes offline (hf-hub-protocol.md §2, hf-hub-protocol-2026.md §11) is spelled
/// out below and applied to the cache files as they are on disk, independently of our reader.
/// </summary>
public sealed partial class PythonOfflineLookupTests
{
    private const string Writer = "hf_writer_token";

    [Fact]
    public async Task Python_offline_lookup_rules_find_a_complete_snapshot_in_a_cache_we_wrote()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer]);
        var pusher = host.Client(Writer);
        await pusher.Repositories.CreateRepoAsync("me/offline");
        var weights = RandomNumberGenerator.GetBytes(8192);
        var pushed = await pusher.Commits.CreateCommitAsync("me/offline",
        [
            CommitOperation.AddBytes("README.md", "---\nlibrary_name: adapter-transformers\n---\n# offline\n"u8.ToArray()),
            CommitOperation.AddBytes("adapter_config.json", "{\"r\": 8}\n"u8.ToArray()),
            CommitOperation.AddBytes("weights/adapter_model.safetensors", weights),
        ], "Add adapter");
        var downloader = host.Client();
        var snapshot = await downloader.Files.SnapshotDownloadAsync("me/offline");
        Assert.Equal(pushed.CommitOid, snapshot.CommitHash);
        // main moves on afterwards: an offline lookup by sha must not care.
        await pusher.Commits.CreateCommitAsync("me/offline", [CommitOperation.AddBytes("later.txt", "later"u8.ToArray())], "Later");

        var cache = downloader.Options.CacheDirectory;
        var bySha = PythonOfflineSnapshot(cache, "me/offline", pushed.CommitOid);
        var byBranch = PythonOfflineSnapshot(cache, "me/offline", "main");

        Assert.Equal(snapshot.Path, bySha.Folder);
        Assert.Equal(bySha.Folder, byBranch.Folder);
        // serve adds .gitattributes with the LFS patterns, as the Hub does.
        Assert.Equal([".gitattributes", "README.md", "adapter_config.json", "weights/adapter_model.safetensors"], bySha.Files);
        Assert.Equal(weights, await File.ReadAllBytesAsync(Path.Combine(bySha.Folder, "weights", "adapter_model.safetensors")));

        // And our own reader, offline, gives the same answer for the sha.
        using var offline = new HubClient(new HubClientOptions { CacheDirectory = cache, Offline = true });
        var again = await offline.Files.SnapshotDownloadAsync("me/offline", revision: pushed.CommitOid);
        Assert.Equal((snapshot.Path, pushed.CommitOid), (again.Path, again.CommitHash));
        Assert.Equal(bySha.Files, again.Files.Order(StringComparer.Ordinal));

        // A pointer gone from the snapshot: Python's 1.22+ listing check calls it incomplete, and so do we.
        File.Delete(Path.Combine(bySha.Folder, "adapter_config.json"));
        var incomplete = Assert.Throws<InvalidDataException>(() => PythonOfflineSnapshot(cache, "me/offline", pushed.CommitOid));
        Assert.Contains("adapter_config.json", incomplete.Message, StringComparison.Ordinal);
        var ours = await Assert.ThrowsAsync<IncompleteSnapshotException>(() => offline.Files.SnapshotDownloadAsync("me/offline", revision: pushed.CommitOid));
        Assert.Equal(["adapter_config.json"], ours.MissingFiles);
    }

    /// <summary>
    /// What <c>snapshot_download(repo_id, revision=..., local_files_only=True)</c> of huggingface_hub 1.28 does with
    /// a cache folder: <c>models--{ns}--{name}</c>; a 40-hex revision is the commit, anything else is read
    /// verbatim from <c>refs/{revision}</c> (no strip, so the ref file must hold exactly the sha);
    /// <c>snapshots/{commit}</c> must exist; <c>trees/{commit}.json</c> (format_version 1) lists the files, and each
    /// must exist under the snapshot (symlinks followed, as <c>os.path.exists</c> does). Beyond Python's checks
    /// this also asserts the layout its other readers rely on: relative links into <c>blobs/{etag}</c>, the etag
    /// being <c>lfs_sha256</c> for LFS files and <c>blob_id</c> otherwise, sizes as listed.
    /// </summary>
    private static (string Folder, IReadOnlyList<string> Files) PythonOfflineSnapshot(string cacheDir, string repoId, string revision)
    {
        var storage = Path.Combine(cacheDir, "models--" + repoId.Replace("/", "--", StringComparison.Ordinal));
        var commit = CommitHash().IsMatch(revision) ? revision : File.ReadAllText(Path.Combine(storage, "refs", revision));
        Assert.Matches(CommitHash(), commit);
        var folder = Path.Combine(storage, "snapshots", commit);
        Assert.True(Directory.Exists(folder), $"no snapshot folder {folder}");

        using var listing = JsonDocument.Parse(File.ReadAllText(Path.Combine(storage, "trees", commit + ".json")));
        Assert.Equal(1, listing.RootElement.GetProperty("format_version").GetInt32());
        var files = listing.RootElement.GetProperty("files").EnumerateObject().ToList();
        Assert.Equal(files.Select(f => f.Name).Order(StringComparer.Ordinal), files.Select(f => f.Name));
        var missing = files.Select(f => f.Name).Where(name => !File.Exists(Path.Combine(folder, name))).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"IncompleteSnapshotError: missing {string.Join(", ", missing)}");

        foreach (var file in files)
        {
            var info = file.Value;
            var etag = info.TryGetProperty("lfs_sha256", out var lfs) ? lfs.GetString()! : info.GetProperty("blob_id").GetString()!;
            Assert.Equal(info.TryGetProperty("lfs_sha256", out _), info.TryGetProperty("lfs_size", out _));
            var pointer = new FileInfo(Path.Combine(folder, file.Name));
            Assert.NotNull(pointer.LinkTarget);
            Assert.False(Path.IsPathRooted(pointer.LinkTarget), $"{file.Name} links to an absolute path");
            var depth = file.Name.Count(c => c == '/');
            Assert.Equal(string.Concat(Enumerable.Repeat("../", depth + 2)) + "blobs/" + etag, pointer.LinkTarget);
            Assert.Equal(info.GetProperty("size").GetInt64(), new FileInfo(Path.Combine(storage, "blobs", etag)).Length);
        }
        return (folder, files.Select(f => f.Name).ToList());
    }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHash();
}
