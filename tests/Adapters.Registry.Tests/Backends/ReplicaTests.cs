using System.Net;
using Adapters.Hub;
using Adapters.Hub.Upload;

namespace Adapters.Registry.Tests.Backends;

/// <summary>
/// Two registries (replicas) on one PostgreSQL database behave as one registry, whether their blobs are in one
/// shared folder or in S3 with a folder each: of two pushes racing on the same parent exactly one wins and the
/// other gets the Hub's 412, and what one replica committed the other serves at once. Both replicas run in this
/// process but share nothing except the database and the blob store, so only the database's compare-and-set can
/// decide the races.
/// </summary>
public abstract class ReplicaTests : IAsyncLifetime
{
    /// <summary>The LFS part size of both replicas, small so that a few MiB take the multipart transfer.</summary>
    private protected const int PartSize = 1024 * 1024;

    private readonly List<HubClient> _clients = [];
    private DirectoryInfo? _scratch;
    private RegistryServer? _first;
    private RegistryServer? _second;

    /// <summary>The options of the two replicas, given a scratch folder.</summary>
    private protected abstract Task<(RegistryServerOptions First, RegistryServerOptions Second)> ReplicaOptionsAsync(string scratch);

    public async Task InitializeAsync()
    {
        _scratch = Directory.CreateTempSubdirectory("adapters-replicas-");
        var (first, second) = await ReplicaOptionsAsync(_scratch.FullName);
        _first = await RegistryServer.StartAsync(first);
        _second = await RegistryServer.StartAsync(second);
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        if (_second is not null) await _second.DisposeAsync();
        if (_first is not null) await _first.DisposeAsync();
        _scratch?.Delete(recursive: true);
    }

    private HubClient ClientOf(RegistryServer server)
    {
        var client = new HubClient(new HubClientOptions
        {
            Endpoint = server.Endpoint,
            CacheDirectory = _scratch!.CreateSubdirectory("cache-" + Guid.NewGuid().ToString("N")).FullName,
            Retry = new HubRetryOptions { MaxRetries = 0 },
        });
        _clients.Add(client);
        return client;
    }

    [Fact]
    public async Task Concurrent_pushes_on_one_parent_through_two_replicas_give_one_winner_and_one_412_every_time()
    {
        var first = ClientOf(_first!);
        var second = ClientOf(_second!);
        await first.Repositories.CreateRepoAsync("team/raced");
        for (var round = 0; round < 15; round++)
        {
            var parent = (await second.Repositories.ModelInfoAsync("team/raced")).Sha!;
            using var start = new SemaphoreSlim(0, 2);
            Task<(CommitInfo? Commit, Exception? Error)> Push(HubClient client, string name) => Task.Run(async () =>
            {
                await start.WaitAsync();
                try
                {
                    return ((CommitInfo?)await client.Commits.CreateCommitAsync("team/raced", [CommitOperation.AddBytes(name, System.Text.Encoding.UTF8.GetBytes(name))], $"Add {name}", new CommitOptions { ParentCommit = parent }), (Exception?)null);
                }
                catch (Exception ex)
                {
                    return (null, ex);
                }
            });
            var pushes = new[] { Push(first, $"first-{round}.txt"), Push(second, $"second-{round}.txt") };
            start.Release(2);
            var outcomes = await Task.WhenAll(pushes);

            var winner = Assert.Single(outcomes, o => o.Commit is not null).Commit!;
            var refused = Assert.IsType<HubConflictException>(Assert.Single(outcomes, o => o.Error is not null).Error);
            Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);

            // Both replicas name the winner as the head, and only the winner's file is on the branch.
            var head = winner.CommitOid;
            Assert.Equal(head, (await first.Repositories.ModelInfoAsync("team/raced")).Sha);
            Assert.Equal(head, (await second.Repositories.ModelInfoAsync("team/raced")).Sha);
            var files = (await second.Repositories.ModelInfoAsync("team/raced")).Siblings.Select(s => s.RelativeFileName).ToList();
            Assert.Equal(round + 1, files.Count(f => f.EndsWith(".txt", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task A_multipart_upload_whose_parts_and_completion_reach_different_replicas_is_stored_once_verified()
    {
        var writer = ClientOf(_first!);
        await writer.Repositories.CreateRepoAsync("team/balanced");
        var weights = System.Security.Cryptography.RandomNumberGenerator.GetBytes(3 * PartSize + 1234);
        var oid = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(weights));
        using var http = new HttpClient();
        Uri OnReplica(ServerIndex index, string url) => new(Replica(index).Endpoint, new Uri(url).PathAndQuery);

        // The batch answer comes from the first replica; a round-robin balancer spreads the parts and the completion.
        using var batchBody = new StringContent(System.Text.Json.JsonSerializer.Serialize(new { operation = "upload", transfers = new[] { "multipart", "basic" }, objects = new[] { new { oid, size = weights.LongLength } }, hash_algo = "sha256" }));
        batchBody.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.git-lfs+json");
        using var batch = await http.PostAsync(new Uri(_first!.Endpoint, "team/balanced.git/info/lfs/objects/batch"), batchBody);
        batch.EnsureSuccessStatusCode();
        using var answer = System.Text.Json.JsonDocument.Parse(await batch.Content.ReadAsStringAsync());
        var upload = answer.RootElement.GetProperty("objects")[0].GetProperty("actions").GetProperty("upload");
        var partUrls = upload.GetProperty("header").EnumerateObject().Where(h => h.Name != "chunk_size").OrderBy(h => h.Name, StringComparer.Ordinal).Select(h => h.Value.GetString()!).ToList();
        Assert.Equal(4, partUrls.Count);
        var parts = new List<object>();
        for (var i = 0; i < partUrls.Count; i++)
        {
            var slice = weights.AsMemory(i * PartSize, Math.Min(PartSize, weights.Length - i * PartSize)).ToArray();
            using var put = await http.PutAsync(OnReplica(i % 2 == 0 ? ServerIndex.Second : ServerIndex.First, partUrls[i]), new ByteArrayContent(slice));
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            parts.Add(new { partNumber = i + 1, etag = put.Headers.ETag!.Tag.Trim('"') });
        }
        using var complete = await http.PostAsync(OnReplica(ServerIndex.Second, upload.GetProperty("href").GetString()!),
            new StringContent(System.Text.Json.JsonSerializer.Serialize(new { oid, parts }), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);

        // The object is stored for both: a push of the same bytes uploads nothing and reads back through the other replica.
        var source = Path.Combine(_scratch!.FullName, "balanced.safetensors");
        await File.WriteAllBytesAsync(source, weights);
        await writer.Commits.CreateCommitAsync("team/balanced", [CommitOperation.AddFile("adapter_model.safetensors", source)], "Add weights uploaded through two replicas");
        Assert.Equal(weights, await File.ReadAllBytesAsync(await ClientOf(_second!).Files.DownloadFileAsync("team/balanced", "adapter_model.safetensors")));

        // A forged or altered upload id is refused by every replica.
        var forged = upload.GetProperty("href").GetString()!.Replace(oid, new string('a', 64), StringComparison.Ordinal);
        using var refused = await http.PutAsync(OnReplica(ServerIndex.Second, forged + "/1"), new ByteArrayContent(new byte[PartSize]));
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
    }

    private enum ServerIndex
    {
        First,
        Second,
    }

    private RegistryServer Replica(ServerIndex index) => index == ServerIndex.First ? _first! : _second!;

    [Fact]
    public async Task A_commit_through_one_replica_is_served_by_the_other_at_once()
    {
        var writer = ClientOf(_first!);
        var reader = ClientOf(_second!);
        await writer.Repositories.CreateRepoAsync("team/shared");
        var weights = System.Security.Cryptography.RandomNumberGenerator.GetBytes(12 * 1024 * 1024);
        var source = Path.Combine(_scratch!.FullName, "adapter_model.safetensors");
        await File.WriteAllBytesAsync(source, weights);
        var commit = await writer.Commits.CreateCommitAsync("team/shared",
            [CommitOperation.AddFile("adapter_model.safetensors", source), CommitOperation.AddBytes("config.json", "{\"r\": 8}"u8.ToArray())], "Add an adapter");

        Assert.Equal(commit.CommitOid, (await reader.Repositories.ModelInfoAsync("team/shared")).Sha);
        var pulled = await reader.Files.DownloadFileAsync("team/shared", "adapter_model.safetensors");
        Assert.Equal(weights, await File.ReadAllBytesAsync(pulled));
        var config = await reader.Files.DownloadFileAsync("team/shared", "config.json", revision: commit.CommitOid);
        Assert.Equal("{\"r\": 8}", await File.ReadAllTextAsync(config));

        // Behind a load balancer the presigned redirect of one replica may be followed on the other.
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var redirect = await http.GetAsync(new Uri(_first!.Endpoint, "team/shared/resolve/main/adapter_model.safetensors"));
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        var signed = redirect.Headers.Location!;
        var onOther = new Uri(_second!.Endpoint, signed.IsAbsoluteUri ? signed.PathAndQuery : signed.OriginalString);
        Assert.NotEqual(signed.IsAbsoluteUri ? signed.Authority : _first.Endpoint.Authority, onOther.Authority);
        Assert.Equal(weights, await http.GetByteArrayAsync(onOther));
    }
}

[Collection(PostgresCollection.Name)]
public sealed class ReplicaTestsOnPostgresAndSharedFolder(PostgresCluster cluster) : ReplicaTests
{
    private protected override async Task<(RegistryServerOptions First, RegistryServerOptions Second)> ReplicaOptionsAsync(string scratch)
    {
        var options = new RegistryServerOptions { RootDirectory = Path.Combine(scratch, "shared-root"), Port = 0, PostgresConnectionString = await cluster.CreateDatabaseAsync(), LfsChunkSize = PartSize };
        return (options, options);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class ReplicaTestsOnPostgresAndS3(PostgresCluster cluster, S3Server s3) : ReplicaTests
{
    private protected override async Task<(RegistryServerOptions First, RegistryServerOptions Second)> ReplicaOptionsAsync(string scratch)
    {
        // A folder each (a cache): only the database and the bucket are shared. Parts of 5 MiB take large blobs through multipart.
        var options = new RegistryServerOptions { RootDirectory = Path.Combine(scratch, "root-1"), Port = 0, PostgresConnectionString = await cluster.CreateDatabaseAsync(), S3Blobs = s3.NewRegistryStorage(), LfsChunkSize = PartSize };
        return (options, options with { RootDirectory = Path.Combine(scratch, "root-2") });
    }
}
