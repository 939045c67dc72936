using System.Net;
using System.Text.Json;
using Adapters.Registry.Tests.Backends;

namespace Adapters.Registry.Tests.Mirror;

/// <summary>
/// The read side of the client suites through a mirror in front of another registry (standing in for the public
/// Hub): our client, Python's wire protocol and the official JS client see upstream's files byte for byte under
/// upstream's commit ids, and N clients asking at once for files the mirror lacks cause one upstream download per
/// blob. Runs once per mirror backend (SuitesOnBackends.cs).
/// </summary>
public abstract class MirrorClientTests(RegistryBackend backend) : BackendSuite(backend)
{
    private async Task<MirrorPair> StartPairAsync() => await MirrorPair.StartAsync(await Backend.PrepareAsync());

    [Fact]
    public async Task Our_client_python_and_js_read_upstream_files_byte_for_byte_under_upstreams_commit_ids()
    {
        await using var pair = await StartPairAsync();
        var seed = await UpstreamSeed.PushAsync(pair.UpstreamClient(), "team/adapter");
        var ours = pair.Mirror.Client();

        // Info, tree and paths-info: upstream's commit and upstream's blob ids.
        var info = await ours.Repositories.RepoInfoAsync("team/adapter");
        Assert.Equal(seed.SecondCommit, info.Sha);
        Assert.Equal(seed.Files.Keys.Append(".gitattributes").Order(StringComparer.Ordinal), info.Siblings.Select(s => s.RelativeFileName).Order(StringComparer.Ordinal));
        Assert.Contains("mirror-test", info.Tags);
        var upstreamTree = await pair.UpstreamClient().Repositories.ListRepoTreeAsync("team/adapter", recursive: true).ToListAsync();
        var mirrorTree = await ours.Repositories.ListRepoTreeAsync("team/adapter", recursive: true).ToListAsync();
        Assert.Equal(upstreamTree.Select(e => (e.Path, e.Type, e.Oid, e.Size, e.Lfs?.Oid)), mirrorTree.Select(e => (e.Path, e.Type, e.Oid, e.Size, e.Lfs?.Oid)));
        var pathsInfo = await ours.Repositories.GetPathsInfoAsync("team/adapter", ["config.json", "weights/adapter.safetensors"]);
        Assert.Equal(UpstreamSeed.Sha256(seed.Files["weights/adapter.safetensors"]), pathsInfo.Single(p => p.Path == "weights/adapter.safetensors").Lfs?.Oid);

        // Our client: a snapshot of main, a file at the tag, a file at the first commit's id.
        var snapshot = await ours.Files.SnapshotDownloadAsync("team/adapter");
        Assert.Equal(seed.SecondCommit, snapshot.CommitHash);
        foreach (var (path, bytes) in seed.Files) Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(snapshot.Path, path)));
        Assert.Equal(seed.FirstConfig, await File.ReadAllBytesAsync(await ours.Files.DownloadFileAsync("team/adapter", "config.json", revision: "v1")));
        Assert.Equal(seed.FirstConfig, await File.ReadAllBytesAsync(await pair.Mirror.Client().Files.DownloadFileAsync("team/adapter", "config.json", revision: seed.FirstCommit)));
        var refs = await ours.Repositories.ListRefsAsync("team/adapter");
        Assert.Equal(seed.SecondCommit, refs.Branches.Single(b => b.Name == "main").TargetCommit);
        Assert.Equal(seed.FirstCommit, refs.Tags.Single(t => t.Name == "v1").TargetCommit);

        // Python (hf_hub_download): HEAD without following redirects, then GET of the Location.
        using var python = new PythonWire(pair.Mirror.Server.Endpoint);
        using var upstreamWire = new PythonWire(pair.Upstream.Endpoint);
        using var head = await python.SendAsync(HttpMethod.Head, "/team/adapter/resolve/main/weights/adapter.safetensors");
        Assert.Equal(HttpStatusCode.Found, head.StatusCode);
        Assert.Equal($"\"{UpstreamSeed.Sha256(seed.Files["weights/adapter.safetensors"])}\"", head.Headers.GetValues("X-Linked-Etag").Single());
        Assert.Equal(seed.SecondCommit, head.Headers.GetValues("X-Repo-Commit").Single());
        Assert.StartsWith(python.BaseUrl + "/lfs-blobs/", head.Headers.Location!.ToString());
        using (var blob = await new HttpClient().GetAsync(head.Headers.Location))
        {
            Assert.Equal(seed.Files["weights/adapter.safetensors"], await blob.Content.ReadAsByteArrayAsync());
        }
        using var regular = await python.SendAsync(HttpMethod.Head, "/team/adapter/resolve/main/config.json");
        using var upstreamRegular = await upstreamWire.SendAsync(HttpMethod.Head, "/team/adapter/resolve/main/config.json");
        Assert.Equal(HttpStatusCode.OK, regular.StatusCode);
        Assert.Equal(upstreamRegular.Headers.ETag, regular.Headers.ETag);
        using var missing = await python.SendAsync(HttpMethod.Head, "/team/adapter/resolve/main/nothing-here.txt");
        Assert.Equal("EntryNotFound", PythonWire.ErrorCode(missing));
        using var missingRepo = await python.GetAsync("/api/models/team/no-such-repo");
        Assert.Equal("RepoNotFound", PythonWire.ErrorCode(missingRepo));

        // The official JS client downloads through the mirror.
        var package = Path.Combine(JsClientInteropTests.InteropFolder, "node_modules", "@huggingface", "hub", "package.json");
        if (!File.Exists(package)) await JsClientInteropTests.InstallJsClientAsync();
        var output = pair.Mirror.Scratch.CreateSubdirectory("js-output");
        var names = seed.Files.Keys.ToArray();
        var endpoint = pair.Mirror.Server.Endpoint.ToString().TrimEnd('/');
        var downloaded = JsonDocument.Parse(await JsClientInteropTests.RunNodeAsync(["download", endpoint, "hf_unused_by_an_open_mirror", "team/adapter", output.FullName, .. names])).RootElement;
        Assert.Equal(names.Length, downloaded.GetProperty("downloads").GetArrayLength());
        foreach (var (path, bytes) in seed.Files) Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(output.FullName, path)));
    }

    [Fact]
    public async Task Sixteen_concurrent_first_requests_cause_one_upstream_fetch_per_blob_and_one_resolution()
    {
        await using var pair = await StartPairAsync();
        var seed = await UpstreamSeed.PushAsync(pair.UpstreamClient(), "team/popular");
        var clients = Enumerable.Range(0, 16).Select(_ => pair.Mirror.Client()).ToList();

        var snapshots = await Task.WhenAll(clients.Select(c => c.Files.SnapshotDownloadAsync("team/popular")));

        foreach (var snapshot in snapshots)
        {
            Assert.Equal(seed.SecondCommit, snapshot.CommitHash);
            foreach (var (path, bytes) in seed.Files) Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(snapshot.Path, path)));
        }
        // Upstream saw main resolved once and each blob downloaded once (a resolve, plus the redirect for LFS files).
        Assert.Equal(1, pair.UpstreamLog.CountRequests("GET", "/api/models/team/popular/revision/main"));
        foreach (var path in seed.Files.Keys.Append(".gitattributes"))
        {
            var fetches = pair.UpstreamLog.CountRequests("GET", $"/team/popular/resolve/{seed.SecondCommit}/{path}");
            Assert.True(fetches == 1, $"{path} was fetched from upstream {fetches} times:\n{string.Join('\n', pair.UpstreamLog.Lines)}");
        }
        foreach (var lfs in new[] { "weights/adapter.safetensors", "weights/head.bin" })
        {
            Assert.Equal(1, pair.UpstreamLog.CountRequestsUnder("GET", $"/lfs-blobs/{UpstreamSeed.Sha256(seed.Files[lfs])}"));
        }
        using var metrics = await new HttpClient().GetAsync(new Uri(pair.Mirror.Server.Endpoint, "/metrics"));
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("adapters_registry_upstream_fetches_total{kind=\"blob\"} 5\n", text);
        Assert.Contains("adapters_registry_upstream_fetches_total{kind=\"revision\"} 1\n", text);
    }
}
