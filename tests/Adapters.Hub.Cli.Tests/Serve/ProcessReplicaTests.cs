using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Adapters.Hub.Upload;
using Adapters.Registry.Tests.Backends;

namespace Adapters.Hub.Cli.Tests.Serve;

/// <summary>
/// Two real <c>adapters-hub serve</c> processes on one PostgreSQL database and one S3 bucket, each with a cache
/// folder of its own, behave as one registry: of two pushes racing on one parent exactly one wins and the other gets
/// the Hub's 412; what one commits the other serves at once; and a replica killed in the middle of a commit leaves
/// nothing of it visible, so the same commit through the other replica succeeds.
/// </summary>
public sealed class ProcessReplicaTests(PostgresCluster postgres, S3Server s3) : IClassFixture<PostgresCluster>, IClassFixture<S3Server>, IAsyncLifetime
{
    private readonly List<HubClient> _clients = [];
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("adapters-process-replicas-");
    private ServeProcess? _first;
    private ServeProcess? _second;

    public async Task InitializeAsync()
    {
        var database = await postgres.CreateDatabaseAsync();
        var environment = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey,
        };
        string[] Shared() => ["--postgres", database, "--s3-endpoint", s3.ServiceUrl.ToString(), "--s3-bucket", S3Server.Bucket, "--lfs-chunk-size", (5L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)];
        _first = await ServeProcess.StartAsync(Path.Combine(_scratch.FullName, "replica-1"), environment, Shared());
        _second = await ServeProcess.StartAsync(Path.Combine(_scratch.FullName, "replica-2"), environment, Shared());
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        if (_first is not null) await _first.DisposeAsync();
        if (_second is not null) await _second.DisposeAsync();
        _scratch.Delete(recursive: true);
    }

    private HubClient ClientOf(ServeProcess replica)
    {
        var client = new HubClient(new HubClientOptions
        {
            Endpoint = replica.Endpoint,
            CacheDirectory = _scratch.CreateSubdirectory("cache-" + Guid.NewGuid().ToString("N")).FullName,
            // A serve process answers its first requests cold (JIT, the S3 client): generous limits, no retries.
            Retry = new HubRetryOptions { MaxRetries = 0, AttemptTimeout = TimeSpan.FromSeconds(120) },
            ReadTimeout = TimeSpan.FromSeconds(120),
        });
        _clients.Add(client);
        return client;
    }

    [Fact]
    public async Task Racing_pushes_through_two_processes_give_one_200_and_one_412_and_both_serve_the_winner()
    {
        var first = ClientOf(_first!);
        var second = ClientOf(_second!);
        await first.Repositories.CreateRepoAsync("team/raced");
        for (var round = 0; round < 8; round++)
        {
            var parent = (await second.Repositories.ModelInfoAsync("team/raced")).Sha!;
            using var start = new SemaphoreSlim(0, 2);
            Task<(CommitInfo? Commit, Exception? Error)> Push(HubClient client, string name) => Task.Run(async () =>
            {
                await start.WaitAsync();
                try
                {
                    return ((CommitInfo?)await client.Commits.CreateCommitAsync("team/raced", [CommitOperation.AddBytes(name, Encoding.UTF8.GetBytes(name))], $"Add {name}", new CommitOptions { ParentCommit = parent }), (Exception?)null);
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
            Assert.Equal(winner.CommitOid, (await first.Repositories.ModelInfoAsync("team/raced")).Sha);
            Assert.Equal(winner.CommitOid, (await second.Repositories.ModelInfoAsync("team/raced")).Sha);
        }
    }

    [Fact]
    public async Task A_commit_through_one_process_is_served_by_the_other_at_once()
    {
        var writer = ClientOf(_first!);
        var reader = ClientOf(_second!);
        await writer.Repositories.CreateRepoAsync("team/shared");
        var weights = System.Security.Cryptography.RandomNumberGenerator.GetBytes(11 * 1024 * 1024);
        var source = Path.Combine(_scratch.FullName, "adapter_model.safetensors");
        await File.WriteAllBytesAsync(source, weights);
        var commit = await writer.Commits.CreateCommitAsync("team/shared",
            [CommitOperation.AddFile("adapter_model.safetensors", source), CommitOperation.AddBytes("adapter_config.json", "{\"r\": 8}"u8.ToArray())], "Add an adapter");

        Assert.Equal(commit.CommitOid, (await reader.Repositories.ModelInfoAsync("team/shared")).Sha);
        Assert.Equal(weights, await File.ReadAllBytesAsync(await reader.Files.DownloadFileAsync("team/shared", "adapter_model.safetensors")));
        Assert.Equal("{\"r\": 8}", await File.ReadAllTextAsync(await reader.Files.DownloadFileAsync("team/shared", "adapter_config.json", revision: commit.CommitOid)));
    }

    [Fact]
    public async Task A_process_killed_mid_commit_leaves_nothing_visible_and_the_commit_succeeds_on_the_other()
    {
        var survivor = ClientOf(_second!);
        await survivor.Repositories.CreateRepoAsync("team/crash");
        var before = await survivor.Repositories.ModelInfoAsync("team/crash");
        var historyBefore = await CommitCountAsync(_second!, "team/crash");

        // The commit's header and first file reach the first process; it is killed before the body ends.
        var body = new HalfSentCommit();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var posting = http.PostAsync(new Uri(_first!.Endpoint, "api/models/team/crash/commit/main"), body);
        await body.FirstLinesSent.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(200);
        await _first.KillAsync();
        Assert.False(_first.IsRunning);
        await Assert.ThrowsAnyAsync<Exception>(async () => (await posting).EnsureSuccessStatusCode());

        var after = await survivor.Repositories.ModelInfoAsync("team/crash");
        Assert.Equal(before.Sha, after.Sha);
        Assert.DoesNotContain(after.Siblings, s => s.RelativeFileName.StartsWith("half-", StringComparison.Ordinal));
        Assert.Equal(historyBefore, await CommitCountAsync(_second!, "team/crash"));

        var retried = await survivor.Commits.CreateCommitAsync("team/crash", [CommitOperation.AddBytes("half-1.txt", "one"u8.ToArray()), CommitOperation.AddBytes("half-2.txt", "two"u8.ToArray())], "Retry");
        var final = await survivor.Repositories.ModelInfoAsync("team/crash");
        Assert.Equal(retried.CommitOid, final.Sha);
        Assert.Equal(["half-1.txt", "half-2.txt"], final.Siblings.Select(s => s.RelativeFileName).Where(f => f.StartsWith("half-", StringComparison.Ordinal)).Order().ToArray());
        Assert.Equal(historyBefore + 1, await CommitCountAsync(_second!, "team/crash"));
    }

    private static async Task<int> CommitCountAsync(ServeProcess replica, string repo)
    {
        using var http = new HttpClient();
        using var commits = JsonDocument.Parse(await http.GetStringAsync(new Uri(replica.Endpoint, $"api/models/{repo}/commits/main")));
        return commits.RootElement.GetArrayLength();
    }

    /// <summary>An NDJSON commit body that sends its header and first file, then never ends (until the connection dies).</summary>
    private sealed class HalfSentCommit : HttpContent
    {
        public HalfSentCommit() => Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");

        public TaskCompletionSource FirstLinesSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var lines = JsonSerializer.Serialize(new { key = "header", value = new { summary = "Half a commit", description = "" } }) + "\n"
                + JsonSerializer.Serialize(new { key = "file", value = new { content = Convert.ToBase64String("one"u8.ToArray()), path = "half-1.txt", encoding = "base64" } }) + "\n";
            await stream.WriteAsync(Encoding.UTF8.GetBytes(lines));
            await stream.FlushAsync();
            FirstLinesSent.TrySetResult();
            await Task.Delay(Timeout.Infinite, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
