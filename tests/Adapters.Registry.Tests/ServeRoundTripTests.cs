using System.Security.Cryptography;
using Adapters.Hub;
using Adapters.Hub.Upload;
using Adapters.Registry.Tests.Backends;
using Adapters.Testing;

namespace Adapters.Registry.Tests;

/// <summary>Our Hub client against <c>adapters-hub serve</c>: push, pull into a fresh cache, and the metadata routes.</summary>
public abstract class ServeRoundTripTests(RegistryBackend backend) : BackendSuite(backend)
{
    private static string PythonAdapter() => TestPaths.Fixture("python-written", "AnHu2410__MD_crosslingual", "adapter");

    [Fact]
    public async Task A_pushed_python_adapter_folder_is_pulled_back_byte_for_byte_into_a_fresh_cache()
    {
        // 1 MiB parts: both weight files take the multipart path, the small LFS file below the basic one.
        await using var host = await StartHostAsync(lfsChunkSize: 1024 * 1024);
        var source = PythonAdapter();
        var pusher = host.Client();

        var pushed = await pusher.PushAdapterFolderAsync(source, "me/mbert-md");
        var small = RandomNumberGenerator.GetBytes(1000);
        var second = await pusher.Commits.CreateCommitAsync("me/mbert-md", [CommitOperation.AddBytes("extra/small.bin", small), CommitOperation.AddBytes("extra/notes.txt", "plain text\n"u8.ToArray())], "Add extras");
        Assert.Matches("^[0-9a-f]{40}$", pushed.CommitOid);
        Assert.NotEqual(pushed.CommitOid, second.CommitOid);

        var puller = host.Client();
        var snapshot = await puller.Files.SnapshotDownloadAsync("me/mbert-md");
        Assert.Equal(second.CommitOid, snapshot.CommitHash);
        Assert.Equal([".gitattributes", "README.md", "adapter_config.json", "extra/notes.txt", "extra/small.bin", "head_config.json", "pytorch_adapter.bin", "pytorch_model_head.bin"],
            snapshot.Files.Order(StringComparer.Ordinal));
        foreach (var name in Directory.EnumerateFiles(source).Select(Path.GetFileName))
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(source, name!)), await File.ReadAllBytesAsync(Path.Combine(snapshot.Path, name!)));
        }
        Assert.Equal(small, await File.ReadAllBytesAsync(Path.Combine(snapshot.Path, "extra", "small.bin")));
        Assert.Contains("me/mbert-md", await File.ReadAllTextAsync(Path.Combine(snapshot.Path, "README.md")));

        // The LFS blob is named by its SHA-256 in the cache, as Python names it.
        var weightsSha = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(source, "pytorch_adapter.bin"))));
        Assert.True(File.Exists(Path.Combine(puller.Options.CacheDirectory, "models--me--mbert-md", "blobs", weightsSha)));
        Assert.Equal("71b52764b4c83bb69aab615bc7d94b33edb23da5ec8965e950b9556a4fcc9d42", weightsSha);

        // A revision pinned to the first commit still gives the first tree.
        var first = await host.Client().Files.SnapshotDownloadAsync("me/mbert-md", revision: pushed.CommitOid);
        Assert.DoesNotContain("extra/small.bin", first.Files);
    }

    [Fact]
    public async Task Model_info_tree_refs_and_search_describe_what_was_committed()
    {
        await using var host = await StartHostAsync(pageSize: 2);
        var client = host.Client("hf_any");
        await client.Repositories.CreateRepoAsync("org/meta");
        var weights = RandomNumberGenerator.GetBytes(4096);
        var commit = await client.Commits.CreateCommitAsync("org/meta",
        [
            CommitOperation.AddBytes("README.md", "---\ntags:\n- adapters\nlibrary_name: adapter-transformers\n---\n# meta\n"u8.ToArray()),
            CommitOperation.AddBytes("weights/adapter.safetensors", weights),
            CommitOperation.AddBytes("weights/config.json", "{}"u8.ToArray()),
        ], "Add files");

        var info = await client.Repositories.ModelInfoAsync("org/meta");
        Assert.Equal(commit.CommitOid, info.Sha);
        Assert.Equal("org", info.Author);
        Assert.Equal("adapter-transformers", info.LibraryName);
        Assert.Contains("adapters", info.Tags);
        Assert.Equal([".gitattributes", "README.md", "weights/adapter.safetensors", "weights/config.json"], info.Siblings.Select(s => s.RelativeFileName));

        // Page size 2: the client must follow the Link header to see all six entries.
        var tree = new List<Adapters.Hub.Repositories.RepoTreeEntry>();
        await foreach (var entry in client.Repositories.ListRepoTreeAsync("org/meta", recursive: true)) tree.Add(entry);
        Assert.Equal([".gitattributes", "README.md", "weights", "weights/adapter.safetensors", "weights/config.json"], tree.Select(e => e.Path));
        var lfs = tree.Single(e => e.Path == "weights/adapter.safetensors");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(weights)), lfs.Lfs!.Oid);
        Assert.Equal(4096, lfs.Size);
        Assert.Equal("directory", tree.Single(e => e.Path == "weights").Type);
        Assert.Equal(GitBlobSha1("{}"u8.ToArray()), tree.Single(e => e.Path == "weights/config.json").Oid);

        // paths-info, as the JS client's downloadFileToCacheDir asks it (JSON body).
        using (var http = new HttpClient())
        {
            using var response = await http.PostAsync($"{host.Endpoint}api/models/org/meta/paths-info/main",
                new StringContent("{\"paths\":[\"weights/adapter.safetensors\",\"weights\",\"missing.txt\"],\"expand\":true}", System.Text.Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
            var infos = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
            Assert.Equal(["weights/adapter.safetensors", "weights"], infos.Select(i => i.GetProperty("path").GetString()));
            Assert.Equal(commit.CommitOid, infos[0].GetProperty("lastCommit").GetProperty("id").GetString());
            Assert.Equal("Add files", infos[0].GetProperty("lastCommit").GetProperty("title").GetString());
        }

        var refs = await client.Repositories.ListRefsAsync("org/meta");
        Assert.Equal(commit.CommitOid, refs.Branches.Single(b => b.Name == "main").TargetCommit);

        await client.Repositories.CreateBranchAsync("org/meta", "dev");
        refs = await client.Repositories.ListRefsAsync("org/meta");
        Assert.Equal(["dev", "main"], refs.Branches.Select(b => b.Name).Order(StringComparer.Ordinal));

        var found = new List<string>();
        await foreach (var model in client.Repositories.ListModelsAsync(author: "org")) found.Add(model.Id);
        Assert.Equal(["org/meta"], found);

        var me = await client.Repositories.WhoAmIAsync();
        Assert.Equal("write", me.Auth!.AccessToken!.Role);
    }

    [Fact]
    public async Task Dataset_repositories_live_under_the_datasets_prefix()
    {
        await using var host = await StartHostAsync();
        var client = host.Client();
        await client.Repositories.CreateRepoAsync("org/data", Hub.RepoType.Dataset);
        var rows = "a,b\n1,2\n"u8.ToArray();
        await client.Commits.CreateCommitAsync("org/data", [CommitOperation.AddBytes("train.csv", rows)], "Add data", new CommitOptions { RepoType = Hub.RepoType.Dataset });

        var path = await host.Client().Files.DownloadFileAsync("org/data", "train.csv", repoType: Hub.RepoType.Dataset);
        Assert.Equal(rows, await File.ReadAllBytesAsync(path));
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => client.Repositories.ModelInfoAsync("org/data"));

        await client.Repositories.DeleteRepoAsync("org/data", Hub.RepoType.Dataset);
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => client.Repositories.RepoInfoAsync("org/data", Hub.RepoType.Dataset));
    }

    private static string GitBlobSha1(byte[] content)
    {
        var header = System.Text.Encoding.ASCII.GetBytes($"blob {content.Length}\0");
        return Convert.ToHexStringLower(SHA1.HashData([.. header, .. content]));
    }
}
