using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Tests.Repositories;

public sealed class RepositoriesClientTests : IDisposable
{
    private readonly HubStub _stub = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-hub-repos-").FullName;

    public void Dispose()
    {
        _stub.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    [Fact]
    public async Task Model_info_reads_the_hub_json()
    {
        _stub.AddFile("ada/info", "README.md", "x");
        _stub.AddFile("ada/info", "adapter_config.json", "{}");
        using var hub = TestHub.Client(_stub, _cache);

        var info = await hub.Repositories.ModelInfoAsync("ada/info", revision: "main");

        Assert.Equal("ada/info", info.Id);
        Assert.Equal(HubStub.CommitA, info.Sha);
        Assert.Equal("ada", info.Author);
        Assert.Null(info.Gated);
        Assert.Equal("adapter-transformers", info.LibraryName);
        Assert.Equal("text-classification", info.PipelineTag);
        Assert.Equal(["README.md", "adapter_config.json"], info.Siblings.Select(s => s.RelativeFileName));
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero), info.LastModified);
        Assert.True(info.AdditionalProperties!.ContainsKey("_id"));
    }

    [Fact]
    public async Task Tree_listing_follows_link_pagination()
    {
        for (var i = 0; i < 5; i++) _stub.AddFile("ada/tree", $"f{i}.txt", $"{i}");
        _stub.AddFile("ada/tree", "big.bin", new byte[10], lfs: true);
        _stub.TreePageSize = 2;
        using var hub = TestHub.Client(_stub, _cache);

        var entries = await hub.Repositories.ListRepoTreeAsync("ada/tree", recursive: true).ToListAsync();

        Assert.Equal(6, entries.Count);
        var big = Assert.Single(entries, e => e.Path == "big.bin");
        Assert.Equal(big.Lfs!.Oid, big.BlobEtag);
        Assert.Equal(3, _stub.HubRequests.Count());
        Assert.All(_stub.HubRequests, r => Assert.Contains("recursive=true", r.Url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_models_sends_author_search_and_repeated_filters_and_stops_at_the_limit()
    {
        for (var i = 0; i < 7; i++) _stub.Models.Add(new { id = $"ada/m{i}", downloads = i });
        _stub.TreePageSize = 3;
        using var hub = TestHub.Client(_stub, _cache);

        var models = await hub.Repositories.ListModelsAsync(author: "ada", search: "m", filter: ["adapter-transformers", "en"], limit: 5).ToListAsync();

        Assert.Equal(["ada/m0", "ada/m1", "ada/m2", "ada/m3", "ada/m4"], models.Select(m => m.Id));
        var first = _stub.HubRequests.First();
        Assert.Contains("author=ada", first.Url, StringComparison.Ordinal);
        Assert.Contains("search=m", first.Url, StringComparison.Ordinal);
        Assert.Contains("filter=adapter-transformers", first.Url, StringComparison.Ordinal);
        Assert.Contains("filter=en", first.Url, StringComparison.Ordinal);
        Assert.Equal(2, _stub.HubRequests.Count());
    }

    [Fact]
    public async Task Missing_repository_raises_repository_not_found()
    {
        using var hub = TestHub.Client(_stub, _cache);

        var error = await Assert.ThrowsAsync<RepositoryNotFoundException>(() => hub.Repositories.ModelInfoAsync("ada/none"));

        Assert.Equal(401, (int)error.StatusCode);
    }
}
