using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Adapters.Hub.Download;
using Adapters.Hub.Upload;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Adapters.Hub.Tests.Upload;

public sealed class CommitsClientTests : IDisposable
{
    private const string Token = "hf_secret_write_token_123";
    private const string Repo = "me/my-adapter";
    private const string HeadCommit = "4f2a7c0a1b2c3d4e5f60718293a4b5c6d7e8f901";
    private const string NewCommit = "0123456789abcdef0123456789abcdef01234567";

    private readonly WireMockServer _hub = WireMockServer.Start();
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("adapters-push-");
    private readonly HubClient _client;

    public CommitsClientTests()
    {
        _client = new HubClient(new HubClientOptions
        {
            Endpoint = new Uri(_hub.Url!),
            Token = Token,
            CacheDirectory = Path.Combine(_folder.FullName, "cache"),
            Retry = new HubRetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(20) },
        });
    }

    public void Dispose()
    {
        _client.Dispose();
        _hub.Stop();
        _hub.Dispose();
        _folder.Delete(recursive: true);
    }

    private string Write(string name, byte[] content)
    {
        var path = Path.Combine(_folder.FullName, "adapter", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static string GitSha1(byte[] data) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {data.Length}\0"), .. data]));

    private void StubPreupload(params (string Path, string Mode, string? Oid)[] files) =>
        _hub.Given(Request.Create().WithPath($"/api/models/{Repo}/preupload/main").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(JsonSerializer.Serialize(new
            {
                files = files.Select(f => f.Oid is null
                    ? (object)new { path = f.Path, uploadMode = f.Mode, shouldIgnore = false }
                    : new { path = f.Path, uploadMode = f.Mode, shouldIgnore = false, oid = f.Oid }),
                commitOid = HeadCommit,
            })));

    private void StubCommit(int status = 200) =>
        _hub.Given(Request.Create().WithPath($"/api/models/{Repo}/commit/main").UsingPost())
            .RespondWith(status == 200
                ? Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(JsonSerializer.Serialize(new
                {
                    success = true,
                    commitOid = NewCommit,
                    commitUrl = $"{_hub.Url}/{Repo}/commit/{NewCommit}",
                    hookOutput = "",
                }))
                : Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithHeader("X-Request-Id", "req-412")
                    .WithBody("{\"error\":\"The branch was updated since you opened this page. Please refresh and try again.\"}"));

    private List<ILogEntry> Requests(string pathFragment, string method) =>
        _hub.LogEntries.Where(e => e.RequestMessage.Path.Contains(pathFragment, StringComparison.Ordinal) && e.RequestMessage.Method == method).ToList();

    private static string? Header(ILogEntry entry, string name) =>
        entry.RequestMessage.Headers!.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();

    [Fact]
    public async Task Folder_push_sends_preupload_batch_put_and_the_ndjson_commit_python_sends()
    {
        var config = Encoding.UTF8.GetBytes("{\n  \"architecture\": \"lora\"\n}");
        var weights = RandomNumberGenerator.GetBytes(3000);
        Write("adapter_config.json", config);
        Write("pytorch_adapter.bin", weights);
        var oid = Sha256(weights);
        StubPreupload(("adapter_config.json", "regular", null), ("pytorch_adapter.bin", "lfs", null));
        _hub.Given(Request.Create().WithPath($"/{Repo}.git/info/lfs/objects/batch").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/vnd.git-lfs+json").WithBody(JsonSerializer.Serialize(new
            {
                transfer = "basic",
                objects = new[] { new { oid, size = weights.Length, actions = new { upload = new { href = $"{_hub.Url}/lfs-storage/{oid}" } } } },
            })));
        _hub.Given(Request.Create().WithPath($"/lfs-storage/{oid}").UsingPut()).RespondWith(Response.Create().WithStatusCode(200));
        StubCommit();

        var info = await _client.Commits.UploadFolderAsync(Path.Combine(_folder.FullName, "adapter"), Repo, "Upload adapter");

        Assert.Equal(NewCommit, info.CommitOid);
        Assert.Equal($"{_hub.Url}/{Repo}/commit/{NewCommit}", info.CommitUrl);
        Assert.Equal(
            ["/api/models/me/my-adapter/preupload/main", $"/{Repo}.git/info/lfs/objects/batch", $"/lfs-storage/{oid}", "/api/models/me/my-adapter/commit/main"],
            _hub.LogEntries.Select(e => e.RequestMessage.Path).ToList());

        var preupload = JsonDocument.Parse(Requests("/preupload/", "POST").Single().RequestMessage.Body!).RootElement.GetProperty("files");
        Assert.Equal("adapter_config.json", preupload[0].GetProperty("path").GetString());
        Assert.Equal(Convert.ToBase64String(config), preupload[0].GetProperty("sample").GetString());
        Assert.Equal(config.Length, preupload[0].GetProperty("size").GetInt64());
        Assert.Equal(Convert.ToBase64String(weights[..512]), preupload[1].GetProperty("sample").GetString());

        var batchEntry = Requests("/info/lfs/objects/batch", "POST").Single();
        Assert.Equal("application/vnd.git-lfs+json", Header(batchEntry, "Accept"));
        Assert.StartsWith("application/vnd.git-lfs+json", Header(batchEntry, "Content-Type"), StringComparison.Ordinal);
        var batch = JsonDocument.Parse(batchEntry.RequestMessage.Body!).RootElement;
        Assert.Equal("upload", batch.GetProperty("operation").GetString());
        Assert.Equal(["basic", "multipart", "xet"], batch.GetProperty("transfers").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("sha256", batch.GetProperty("hash_algo").GetString());
        Assert.Equal("main", batch.GetProperty("ref").GetProperty("name").GetString());
        Assert.Equal(oid, batch.GetProperty("objects")[0].GetProperty("oid").GetString());
        Assert.Equal(weights.Length, batch.GetProperty("objects")[0].GetProperty("size").GetInt64());

        var put = Requests("/lfs-storage/", "PUT").Single();
        Assert.Equal(weights, put.RequestMessage.BodyAsBytes);

        var commit = Requests("/commit/main", "POST").Single();
        Assert.Equal($"Bearer {Token}", Header(commit, "Authorization"));
        Assert.StartsWith("application/x-ndjson", Header(commit, "Content-Type"), StringComparison.Ordinal);
        var expected =
            "{\"key\":\"header\",\"value\":{\"summary\":\"Upload adapter\",\"description\":\"\"}}\n" +
            $"{{\"key\":\"file\",\"value\":{{\"content\":\"{Convert.ToBase64String(config)}\",\"path\":\"adapter_config.json\",\"encoding\":\"base64\"}}}}\n" +
            $"{{\"key\":\"lfsFile\",\"value\":{{\"path\":\"pytorch_adapter.bin\",\"algo\":\"sha256\",\"oid\":\"{oid}\",\"size\":{weights.Length}}}}}\n";
        Assert.Equal(expected, Encoding.UTF8.GetString(commit.RequestMessage.BodyAsBytes!));
    }

    [Fact]
    public async Task Multipart_parts_upload_in_parallel_and_a_failed_part_is_retried_alone()
    {
        var weights = RandomNumberGenerator.GetBytes(25);
        Write("adapter.safetensors", weights);
        var oid = Sha256(weights);
        StubPreupload(("adapter.safetensors", "lfs", null));
        _hub.Given(Request.Create().WithPath($"/{Repo}.git/info/lfs/objects/batch").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(JsonSerializer.Serialize(new
            {
                transfer = "multipart",
                objects = new[]
                {
                    new
                    {
                        oid, size = weights.Length,
                        actions = new
                        {
                            upload = new
                            {
                                href = $"{_hub.Url}/lfs-complete/{oid}",
                                header = new Dictionary<string, string>
                                {
                                    ["chunk_size"] = "10",
                                    ["00001"] = $"{_hub.Url}/part/1",
                                    ["00002"] = $"{_hub.Url}/part/2",
                                    ["00003"] = $"{_hub.Url}/part/3",
                                },
                            },
                            verify = new { href = $"{_hub.Url}/lfs-verify" },
                        },
                    },
                },
            })));
        foreach (var part in new[] { 1, 3 })
        {
            _hub.Given(Request.Create().WithPath($"/part/{part}").UsingPut()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("ETag", $"\"etag-{part}\""));
        }
        _hub.Given(Request.Create().WithPath("/part/2").UsingPut()).InScenario("part2").WillSetStateTo("failed once")
            .RespondWith(Response.Create().WithStatusCode(503));
        _hub.Given(Request.Create().WithPath("/part/2").UsingPut()).InScenario("part2").WhenStateIs("failed once")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("ETag", "\"etag-2\""));
        _hub.Given(Request.Create().WithPath($"/lfs-complete/{oid}").UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        _hub.Given(Request.Create().WithPath("/lfs-verify").UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        StubCommit();
        var reports = new List<TransferProgress>();

        await _client.Commits.UploadFolderAsync(Path.Combine(_folder.FullName, "adapter"), Repo, "Upload",
            options: new CommitOptions { Progress = new SynchronousProgress(reports) });

        Assert.Equal(weights[..10], Requests("/part/1", "PUT").Single().RequestMessage.BodyAsBytes);
        Assert.Equal(2, Requests("/part/2", "PUT").Count);
        Assert.All(Requests("/part/2", "PUT"), e => Assert.Equal(weights[10..20], e.RequestMessage.BodyAsBytes));
        Assert.Equal(weights[20..], Requests("/part/3", "PUT").Single().RequestMessage.BodyAsBytes);

        var completion = Requests("/lfs-complete/", "POST").Single();
        Assert.Null(Header(completion, "Authorization"));
        var body = JsonDocument.Parse(completion.RequestMessage.Body!).RootElement;
        Assert.Equal(oid, body.GetProperty("oid").GetString());
        Assert.Equal(
            [(1, "etag-1"), (2, "etag-2"), (3, "etag-3")],
            body.GetProperty("parts").EnumerateArray().Select(p => (p.GetProperty("partNumber").GetInt32(), p.GetProperty("etag").GetString())));

        var verify = JsonDocument.Parse(Requests("/lfs-verify", "POST").Single().RequestMessage.Body!).RootElement;
        Assert.Equal(oid, verify.GetProperty("oid").GetString());
        Assert.Equal(weights.Length, verify.GetProperty("size").GetInt64());

        var last = reports[^1];
        Assert.Equal(weights.Length, last.BytesTransferred);
        Assert.Equal(1, last.FilesCompleted);
    }

    [Fact]
    public async Task A_part_failing_with_5xx_is_put_max_retries_plus_one_times_not_stacked_and_a_failed_commit_is_sent_once()
    {
        var weights = RandomNumberGenerator.GetBytes(20);
        Write("adapter.safetensors", weights);
        var oid = Sha256(weights);
        StubPreupload(("adapter.safetensors", "lfs", null));
        _hub.Given(Request.Create().WithPath($"/{Repo}.git/info/lfs/objects/batch").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(JsonSerializer.Serialize(new
            {
                transfer = "multipart",
                objects = new[]
                {
                    new
                    {
                        oid, size = weights.Length,
                        actions = new
                        {
                            upload = new
                            {
                                href = $"{_hub.Url}/lfs-complete/{oid}",
                                header = new Dictionary<string, string> { ["chunk_size"] = "10", ["00001"] = $"{_hub.Url}/part/1", ["00002"] = $"{_hub.Url}/part/2" },
                            },
                        },
                    },
                },
            })));
        _hub.Given(Request.Create().WithPath("/part/1").UsingPut()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("ETag", "\"etag-1\""));
        _hub.Given(Request.Create().WithPath("/part/2").UsingPut()).RespondWith(Response.Create().WithStatusCode(503));

        var error = await Assert.ThrowsAsync<HubException>(() => _client.Commits.UploadFolderAsync(Path.Combine(_folder.FullName, "adapter"), Repo, "Upload"));

        // One retry rule in one place (the pipeline, MaxRetries = 2): 3 PUTs, not 3 part attempts x 3 pipeline attempts.
        Assert.Equal(3, Requests("/part/2", "PUT").Count);
        Assert.Contains("part 2", error.Message, StringComparison.Ordinal);

        // The commit itself is never resent (it could land twice), even on a 500.
        _hub.Reset();
        Write("adapter.safetensors", "{}"u8.ToArray());
        StubPreupload(("adapter.safetensors", "regular", null));
        StubCommit(500);
        await Assert.ThrowsAsync<HubHttpException>(() => _client.Commits.UploadFolderAsync(Path.Combine(_folder.FullName, "adapter"), Repo, "Upload"));
        Assert.Single(Requests("/commit/main", "POST"));
        var preupload = Assert.Single(Requests("/preupload/main", "POST"));
        // JSON bodies go out with Content-Length, never chunked, as Python sends them.
        Assert.Equal(preupload.RequestMessage.BodyAsBytes!.Length.ToString(), Header(preupload, "Content-Length"));
        Assert.Null(Header(preupload, "Transfer-Encoding"));
    }

    [Fact]
    public async Task Objects_the_server_already_has_are_not_uploaded_and_unchanged_files_make_no_commit()
    {
        var weights = RandomNumberGenerator.GetBytes(100);
        var config = Encoding.UTF8.GetBytes("{}");
        Write("pytorch_adapter.bin", weights);
        Write("adapter_config.json", config);
        StubPreupload(("adapter_config.json", "regular", GitSha1(config)), ("pytorch_adapter.bin", "lfs", Sha256(weights)));

        var info = await _client.Commits.UploadFolderAsync(Path.Combine(_folder.FullName, "adapter"), Repo, "Upload");

        Assert.True(info.IsEmpty);
        Assert.Equal(HeadCommit, info.CommitOid);
        Assert.Empty(Requests("/info/lfs/", "POST"));
        Assert.Empty(Requests("/commit/", "POST"));
    }

    [Fact]
    public async Task A_stale_parent_commit_throws_a_conflict_that_names_the_request_and_hides_the_token()
    {
        Write("adapter_config.json", Encoding.UTF8.GetBytes("{}"));
        StubPreupload(("adapter_config.json", "regular", null));
        StubCommit(status: 412);

        var ex = await Assert.ThrowsAsync<HubConflictException>(() => _client.Commits.UploadFolderAsync(
            Path.Combine(_folder.FullName, "adapter"), Repo, "Upload", options: new CommitOptions { ParentCommit = HeadCommit }));

        Assert.Equal(HttpStatusCode.PreconditionFailed, ex.StatusCode);
        Assert.Equal("req-412", ex.RequestId);
        Assert.Contains("branch was updated", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, ex.ToString(), StringComparison.Ordinal);
        var header = Encoding.UTF8.GetString(Requests("/commit/", "POST").Single().RequestMessage.BodyAsBytes!).Split('\n')[0];
        Assert.Equal($"{{\"key\":\"header\",\"value\":{{\"summary\":\"Upload\",\"description\":\"\",\"parentCommit\":\"{HeadCommit}\"}}}}", header);
    }

    [Fact]
    public async Task Deletes_and_pull_requests_use_pythons_lines_and_query()
    {
        _hub.Given(Request.Create().WithPath($"/api/models/{Repo}/commit/main").WithParam("create_pr", "1").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(JsonSerializer.Serialize(new
            {
                success = true,
                commitOid = NewCommit,
                commitUrl = $"{_hub.Url}/{Repo}/commit/{NewCommit}",
                pullRequestUrl = $"{_hub.Url}/{Repo}/discussions/7",
            })));

        var info = await _client.Commits.CreateCommitAsync(Repo,
            [CommitOperation.DeleteFile("old.bin"), CommitOperation.DeleteFolder("checkpoints")],
            "Clean up", new CommitOptions { CreatePullRequest = true });

        Assert.Equal("refs/pr/7", info.PullRequestRevision);
        Assert.Equal(
            "{\"key\":\"header\",\"value\":{\"summary\":\"Clean up\",\"description\":\"\"}}\n" +
            "{\"key\":\"deletedFile\",\"value\":{\"path\":\"old.bin\"}}\n" +
            "{\"key\":\"deletedFolder\",\"value\":{\"path\":\"checkpoints/\"}}\n",
            Encoding.UTF8.GetString(Requests("/commit/", "POST").Single().RequestMessage.BodyAsBytes!));
    }

    [Fact]
    public async Task Delete_patterns_remove_remote_files_that_are_not_being_uploaded()
    {
        var config = Encoding.UTF8.GetBytes("{}");
        Write("adapter_config.json", config);
        _hub.Given(Request.Create().WithPath($"/api/models/{Repo}/tree/main").WithParam("recursive", "true").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(JsonSerializer.Serialize(new object[]
            {
                new { type = "file", path = ".gitattributes", oid = new string('a', 40), size = 10 },
                new { type = "file", path = "adapter_config.json", oid = new string('b', 40), size = 2 },
                new { type = "file", path = "old_adapter.bin", oid = new string('c', 40), size = 5 },
                new { type = "directory", path = "logs", oid = new string('d', 40), size = 0 },
                new { type = "file", path = "logs/run.txt", oid = new string('e', 40), size = 5 },
            })));
        StubPreupload(("adapter_config.json", "regular", null));
        StubCommit();

        await _client.Commits.UploadFolderAsync(Path.Combine(_folder.FullName, "adapter"), Repo, "Replace", deletePatterns: ["*.bin", "*.json", ".gitattributes"]);

        var lines = Encoding.UTF8.GetString(Requests("/commit/", "POST").Single().RequestMessage.BodyAsBytes!).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains("\"path\":\"adapter_config.json\"", lines[1], StringComparison.Ordinal);
        Assert.Equal("{\"key\":\"deletedFile\",\"value\":{\"path\":\"old_adapter.bin\"}}", lines[2]);
    }

    [Fact]
    public void Folder_operations_skip_git_metadata_and_apply_patterns()
    {
        Write("adapter_config.json", [1]);
        Write("pytorch_adapter.bin", [2]);
        Write(".git/HEAD", [3]);
        Write(".cache/huggingface/upload/x.lock", [4]);
        Write("logs/train.log", [5]);

        var paths = CommitsClient.FolderOperations(Path.Combine(_folder.FullName, "adapter"), "sub", null, ["logs/"]).Select(o => o.PathInRepo);

        Assert.Equal(["sub/adapter_config.json", "sub/pytorch_adapter.bin"], paths);
    }

    private sealed class SynchronousProgress(List<TransferProgress> sink) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            lock (sink) sink.Add(value);
        }
    }
}
