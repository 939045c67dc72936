using System.Net;
using System.Text;
using Adapters.Hub;
using Adapters.Hub.Upload;
using Adapters.Registry.Tests.Backends;

namespace Adapters.Registry.Tests.Web;

/// <summary>
/// Two replicas on PostgreSQL + S3, each with its own folder: an adapter pushed through one is found and shown by
/// the other's page, whose card, config and safetensors header come from the bucket, not from a shared disk.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class WebPageOnReplicasTests(PostgresCluster cluster, S3Server s3) : IAsyncLifetime
{
    private DirectoryInfo? _scratch;
    private RegistryServer? _first;
    private RegistryServer? _second;

    public async Task InitializeAsync()
    {
        _scratch = Directory.CreateTempSubdirectory("adapters-web-replicas-");
        var options = new RegistryServerOptions { RootDirectory = Path.Combine(_scratch.FullName, "root-1"), Port = 0, PostgresConnectionString = await cluster.CreateDatabaseAsync(), S3Blobs = s3.NewRegistryStorage() };
        _first = await RegistryServer.StartAsync(options);
        _second = await RegistryServer.StartAsync(options with { RootDirectory = Path.Combine(_scratch.FullName, "root-2") });
    }

    public async Task DisposeAsync()
    {
        if (_second is not null) await _second.DisposeAsync();
        if (_first is not null) await _first.DisposeAsync();
        _scratch?.Delete(recursive: true);
    }

    [Fact]
    public async Task An_adapter_pushed_to_one_replica_is_found_and_summarised_on_the_other()
    {
        using (var client = new HubClient(new HubClientOptions { Endpoint = _first!.Endpoint, CacheDirectory = _scratch!.CreateSubdirectory("cache").FullName, Retry = new HubRetryOptions { MaxRetries = 0 } }))
        {
            await client.Repositories.CreateRepoAsync("team/replicated-lora");
            await client.Commits.CreateCommitAsync("team/replicated-lora",
                [.. Directory.GetFiles(LegacyCatalogRegistry.LoraFolder).Select(f => CommitOperation.AddBytes(Path.GetFileName(f), File.ReadAllBytes(f))),
                 CommitOperation.AddBytes("README.md", Encoding.UTF8.GetBytes("---\nlibrary_name: adapters\npipeline_tag: token-classification\n---\n\n# Replicated\n"))],
                "Add the LoRA");
        }

        using var http = new HttpClient { BaseAddress = _second!.Endpoint };
        var search = await http.GetStringAsync("/?task=token-classification&architecture=lora");
        var page = WebUtility.HtmlDecode(await http.GetStringAsync("/-/models/team/replicated-lora"));

        Assert.Contains(">team/replicated-lora</a>", search, StringComparison.Ordinal);
        Assert.Contains("<h1>Replicated</h1>", page, StringComparison.Ordinal);
        Assert.Contains("\"architecture\": \"lora\"", page, StringComparison.Ordinal);
        Assert.Contains("<tr><td>adapter.safetensors</td><td>8</td><td>4,096</td><td>F32: 4,096</td></tr>", page, StringComparison.Ordinal);
    }
}
