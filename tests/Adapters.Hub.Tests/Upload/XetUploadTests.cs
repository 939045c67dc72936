using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Adapters.Hub.Upload;
using Adapters.Hub.Xet;
using Adapters.Hub.Xet.Shards;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace Adapters.Hub.Tests.Upload;

/// <summary>
/// Pushes through Xet against a stub Hub whose LFS batch answers <c>transfer: "xet"</c> and a stub CAS that checks
/// every xorb and shard it receives and answers dedupe queries the way the Hub does (keyed chunk hashes).
/// </summary>
public sealed class XetUploadTests : IDisposable
{
    private const string Token = "hf_secret_write_token_123";
    private const string CasToken = "xet_write_token_456";
    private const string Repo = "me/xet-adapter";
    private const string NewCommit = "0123456789abcdef0123456789abcdef01234567";
    private static readonly XetHash HmacKey = XetHash.Parse(new string('5', 64));

    private readonly WireMockServer _hub = WireMockServer.Start();
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("adapters-xet-push-");
    private readonly HubClient _client;
    private readonly ConcurrentDictionary<XetHash, byte[]> _xorbs = new();
    private readonly ConcurrentQueue<XetShard> _shards = new();
    private readonly ConcurrentQueue<string> _casAuth = new();
    private readonly ConcurrentQueue<XetHash> _queries = new();

    public XetUploadTests()
    {
        _client = new HubClient(new HubClientOptions
        {
            Endpoint = new Uri(_hub.Url!),
            Token = Token,
            CacheDirectory = Path.Combine(_folder.FullName, "cache"),
            Retry = new HubRetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(20) },
        });
        _hub.Given(Request.Create().WithPath($"/api/models/{Repo}/preupload/main").UsingPost())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                var files = JsonDocument.Parse(request.Body!).RootElement.GetProperty("files").EnumerateArray()
                    .Select(f => new { path = f.GetProperty("path").GetString(), uploadMode = "lfs", shouldIgnore = false }).ToList();
                return Json(new { files, commitOid = "4f2a7c0a1b2c3d4e5f60718293a4b5c6d7e8f901" });
            }));
        _hub.Given(Request.Create().WithPath($"/{Repo}.git/info/lfs/objects/batch").UsingPost())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                var body = JsonDocument.Parse(request.Body!).RootElement;
                var offersXet = body.GetProperty("transfers").EnumerateArray().Any(t => t.GetString() == "xet");
                var objects = body.GetProperty("objects").EnumerateArray().Select(o => new
                {
                    oid = o.GetProperty("oid").GetString(),
                    size = o.GetProperty("size").GetInt64(),
                    actions = new
                    {
                        upload = new
                        {
                            href = $"{_hub.Url}/api/models/{Repo}/xet-write-token/main",
                            header = new Dictionary<string, string>
                            {
                                ["X-Xet-Cas-Url"] = $"{_hub.Url}/cas",
                                ["X-Xet-Access-Token"] = CasToken,
                                ["X-Xet-Token-Expiration"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                            },
                        },
                    },
                }).ToList();
                return Json(new { transfer = offersXet ? "xet" : "basic", objects });
            }));
        _hub.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher("^/cas/v1/xorbs/default/[0-9a-f]{64}$")).UsingPost())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                _casAuth.Enqueue(request.Headers!["Authorization"].ToString()!);
                var hash = XetHash.Parse(request.Path.Split('/').Last());
                XorbReader.ReadVerified(request.BodyAsBytes!, hash); // the xorb must hash to its URL
                var inserted = _xorbs.TryAdd(hash, request.BodyAsBytes!);
                return Json(new { was_inserted = inserted });
            }));
        _hub.Given(Request.Create().WithPath("/cas/v1/shards").UsingPost())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                _casAuth.Enqueue(request.Headers!["Authorization"].ToString()!);
                var shard = XetShardReader.Read(request.BodyAsBytes!, "uploaded shard");
                // Every referenced xorb must be stored before the shard arrives.
                foreach (var segment in shard.Files.SelectMany(f => f.Segments))
                {
                    if (!_xorbs.ContainsKey(segment.XorbHash)) return Json(new { error = $"unknown xorb {segment.XorbHash}" }, 400);
                }
                _shards.Enqueue(shard);
                return Json(new { result = 0 });
            }));
        _hub.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher("^/cas/v1/chunks/default-merkledb/[0-9a-f]{64}$")).UsingGet())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                _casAuth.Enqueue(request.Headers!["Authorization"].ToString()!);
                var chunk = XetHash.Parse(request.Path.Split('/').Last());
                _queries.Enqueue(chunk);
                // As the Hub: the xorbs of the shard that introduced the chunk, chunk hashes keyed.
                var owner = _shards.FirstOrDefault(s => s.Xorbs.Any(x => x.Chunks.Any(c => c.Hash == chunk)));
                if (owner is null) return new ResponseMessage { StatusCode = 404 };
                var keyed = new XetShard([], owner.Xorbs.Select(x => x with
                {
                    Chunks = x.Chunks.Select(c => c with { Hash = XetHashing.KeyedChunkHash(c.Hash, HmacKey) }).ToList(),
                }).ToList()) { HmacKey = HmacKey };
                return new ResponseMessage
                {
                    StatusCode = 200,
                    BodyData = new BodyData { DetectedBodyType = BodyType.Bytes, BodyAsBytes = XetShardWriter.Serialize(keyed) },
                };
            }));
        _hub.Given(Request.Create().WithPath($"/api/models/{Repo}/commit/main").UsingPost())
            .RespondWith(Response.Create().WithCallback(_ => Json(new { success = true, commitOid = NewCommit, commitUrl = $"{_hub.Url}/{Repo}/commit/{NewCommit}" })));
    }

    public void Dispose()
    {
        _client.Dispose();
        _hub.Stop();
        _hub.Dispose();
        _folder.Delete(recursive: true);
    }

    private static ResponseMessage Json(object body, int status = 200) => new()
    {
        StatusCode = status,
        Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = JsonSerializer.Serialize(body) },
    };

    /// <summary>The file a shard entry describes, rebuilt from the stored xorbs.</summary>
    private byte[] Rebuild(XetShardFileInfo file) =>
        file.Segments.SelectMany(s => XorbReader.ReadChunks(_xorbs[s.XorbHash], "stored")
            .Skip(s.ChunkIndexStart).Take(s.ChunkCount).SelectMany(c => c)).ToArray();

    private Task<CommitInfo> PushAsync(byte[] content) =>
        _client.Commits.CreateCommitAsync(Repo, [CommitOperation.AddBytes("adapter_model.safetensors", content)], "Upload weights");

    [Fact]
    public async Task A_push_sends_xorbs_and_a_shard_the_cas_can_rebuild_the_file_from()
    {
        var content = new byte[2_500_000];
        new Random(11).NextBytes(content);

        var info = await PushAsync(content);

        Assert.Equal(NewCommit, info.CommitOid);
        var shard = Assert.Single(_shards);
        var file = Assert.Single(shard.Files);
        var chunks = XetChunker.ChunkLengths(content);
        var chunkInfos = new List<XetChunkInfo>();
        var offset = 0;
        foreach (var length in chunks)
        {
            chunkInfos.Add(new XetChunkInfo(XetHashing.ChunkHash(content.AsSpan(offset, length)), length));
            offset += length;
        }
        Assert.Equal(XetHashing.FileHash(chunkInfos), file.FileHash);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), file.Sha256);
        Assert.Equal(content, Rebuild(file));
        // One verification hash per term, over the term's chunk hashes.
        Assert.Equal(file.Segments.Count, file.VerificationHashes!.Count);
        var first = file.Segments[0];
        Assert.Equal(XetHashing.VerificationHash(chunkInfos.Take(first.ChunkCount).Select(c => c.Hash).ToList()), file.VerificationHashes[0]);
        // The shard lists the new xorbs with their chunks, as POSTed.
        Assert.Equal(_xorbs.Keys.Order().ToList(), shard.Xorbs.Select(x => x.XorbHash).Order().ToList());
        Assert.All(shard.Xorbs, x => Assert.Equal(_xorbs[x.XorbHash].Length, x.SerializedBytes));
        // The CAS saw only the CAS token; the commit names the file by SHA-256 as an LFS file.
        Assert.All(_casAuth, auth => Assert.Equal("Bearer " + CasToken, auth));
        var commit = _hub.LogEntries.Single(e => e.RequestMessage.Path.EndsWith("/commit/main", StringComparison.Ordinal)).RequestMessage.Body!;
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(content)), commit, StringComparison.Ordinal);
        Assert.Contains("lfsFile", commit, StringComparison.Ordinal);
        Assert.DoesNotContain(_hub.LogEntries, e => e.RequestMessage.Method == "PUT");
    }

    [Fact]
    public async Task A_second_push_after_a_small_rewrite_sends_only_the_changed_chunks()
    {
        var original = new byte[4_000_000];
        new Random(12).NextBytes(original);
        await PushAsync(original);
        var firstXorbBytes = _xorbs.Values.Sum(x => x.Length);
        var edited = (byte[])original.Clone();
        new Random(13).NextBytes(edited.AsSpan(2_000_000, 40_000));

        await PushAsync(edited);

        var second = _shards.Last();
        var file = Assert.Single(second.Files);
        Assert.Equal(edited, Rebuild(file));
        // Found through the dedupe query for the file's first chunk (the answer's hashes are keyed).
        Assert.Contains(XetHashing.ChunkHash(edited.AsSpan(0, XetChunker.ChunkLengths(edited)[0])), _queries);
        var newBytes = second.Xorbs.Sum(x => (long)x.SerializedBytes);
        Assert.True(newBytes < 0.1 * edited.Length, $"{newBytes} bytes of new xorbs for a 40 kB rewrite of {edited.Length} bytes");
        Assert.True(newBytes >= 40_000, $"{newBytes} bytes cannot hold the rewritten region");
        Assert.True(file.Segments.Count >= 3, "the file reuses the first push's xorb around the new one");
        Assert.Equal(firstXorbBytes + newBytes, _xorbs.Values.Sum(x => (long)x.Length));
    }

    [Fact]
    public async Task With_xet_off_the_batch_offers_no_xet_and_the_file_goes_to_lfs()
    {
        var options = new HubClientOptions
        {
            Endpoint = new Uri(_hub.Url!),
            Token = Token,
            CacheDirectory = Path.Combine(_folder.FullName, "cache2"),
            UseXet = false,
        };
        var content = new byte[1000];
        _hub.Given(Request.Create().WithPath($"/api/models/{Repo}/xet-write-token/main").UsingPut()).RespondWith(Response.Create().WithStatusCode(200));
        using var client = new HubClient(options);

        // The stub answers "basic" to a client that does not offer xet; its upload href is then a plain PUT target.
        var info = await client.Commits.CreateCommitAsync(Repo, [CommitOperation.AddBytes("w.bin", content)], "x");

        Assert.Equal(NewCommit, info.CommitOid);
        var batch = JsonDocument.Parse(_hub.LogEntries.Single(e => e.RequestMessage.Path.EndsWith("/batch", StringComparison.Ordinal)).RequestMessage.Body!).RootElement;
        Assert.Equal(["basic", "multipart"], batch.GetProperty("transfers").EnumerateArray().Select(t => t.GetString()));
        Assert.Empty(_xorbs);
        Assert.Contains(_hub.LogEntries, e => e.RequestMessage.Method == "PUT" && e.RequestMessage.Path.Contains("xet-write-token", StringComparison.Ordinal));
    }
}
