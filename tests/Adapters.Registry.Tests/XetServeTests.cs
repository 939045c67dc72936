using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Adapters.Hub.Xet;

namespace Adapters.Registry.Tests;

/// <summary>
/// serve as a Xet CAS over HTTP, driven by hand with our own Xet primitives: the token routes and their scopes,
/// xorb upload checks and dedupe, shard registration (every claim checked against the stored xorbs), reconstructions
/// and the plain bytes non-Xet clients get, and the access rule that a token for one repository never reads another
/// repository's files.
/// </summary>
public sealed class XetServeTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Writer = "hf_xet_writer";
    private const string Reader = "hf_xet_reader";

    [Fact]
    public async Task Token_routes_hand_out_short_lived_cas_tokens_scoped_to_the_repository_and_the_callers_rights()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [$"write:{Writer}", $"read:{Reader}"]);
        await host.Client(Writer).Repositories.CreateRepoAsync("me/tokens", isPrivate: true);
        using var writer = new PythonWire(host.Server.Endpoint, Writer);
        using var reader = new PythonWire(host.Server.Endpoint, Reader);
        using var anonymous = new PythonWire(host.Server.Endpoint);

        var write = await PythonWire.JsonOf(await writer.GetAsync("/api/models/me/tokens/xet-write-token/main"));
        Assert.Equal($"{host.Server.Endpoint.ToString().TrimEnd('/')}/xet-cas", write.GetProperty("casUrl").GetString());
        var expires = DateTimeOffset.FromUnixTimeSeconds(write.GetProperty("exp").GetInt64());
        Assert.InRange(expires, DateTimeOffset.UtcNow.AddMinutes(1), DateTimeOffset.UtcNow.AddHours(2));
        var read = await PythonWire.JsonOf(await reader.GetAsync("/api/models/me/tokens/xet-read-token/main"));
        Assert.NotEqual(write.GetProperty("accessToken").GetString(), read.GetProperty("accessToken").GetString());

        // The Hub token's rights bound the CAS token's: a read token gets no write token, nobody gets one for a
        // private repository anonymously, and a revision that does not exist has no read token.
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.GetAsync("/api/models/me/tokens/xet-write-token/main")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/models/me/tokens/xet-read-token/main")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("/api/models/me/tokens/xet-read-token/no-such-branch")).StatusCode);

        // A read CAS token cannot upload; no token, a forged one or a Hub token is not a CAS token at all.
        var xorb = Xorb(RandomNumberGenerator.GetBytes(200_000));
        using var cas = new HttpClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(cas, host, $"/xet-cas/v1/xorbs/default/{xorb.Hash}", xorb.Bytes, read.GetProperty("accessToken").GetString())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(cas, host, $"/xet-cas/v1/xorbs/default/{xorb.Hash}", xorb.Bytes, null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(cas, host, $"/xet-cas/v1/xorbs/default/{xorb.Hash}", xorb.Bytes, Writer)).StatusCode);
        var forged = Tamper(write.GetProperty("accessToken").GetString()!);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(cas, host, $"/xet-cas/v1/xorbs/default/{xorb.Hash}", xorb.Bytes, forged)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(cas, host, $"/xet-cas/v1/xorbs/default/{xorb.Hash}", xorb.Bytes, write.GetProperty("accessToken").GetString())).StatusCode);
    }

    [Fact]
    public async Task A_xorb_is_stored_once_across_repositories_and_only_when_its_chunks_hash_to_its_name()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [$"write:{Writer}"]);
        var client = host.Client(Writer);
        await client.Repositories.CreateRepoAsync("me/first");
        await client.Repositories.CreateRepoAsync("me/second");
        using var cas = new HttpClient();
        var first = await CasTokenAsync(host, "me/first", write: true);
        var second = await CasTokenAsync(host, "me/second", write: true);
        var xorb = Xorb(RandomNumberGenerator.GetBytes(300_000), XetCompressionScheme.Lz4);

        var wrongName = Xorb(RandomNumberGenerator.GetBytes(1000)).Hash;
        var mismatch = await PostAsync(cas, host, $"/xet-cas/v1/xorbs/default/{wrongName}", xorb.Bytes, first);
        Assert.Contains(wrongName, (await PythonWire.ErrorOf(mismatch, 400)).GetProperty("error").GetString());
        var truncated = await PostAsync(cas, host, $"/xet-cas/v1/xorbs/default/{xorb.Hash}", xorb.Bytes[..^10], first);
        Assert.Equal(HttpStatusCode.BadRequest, truncated.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(cas, host, "/xet-cas/v1/xorbs/default/not-a-hash", xorb.Bytes, first)).StatusCode);

        var inserted = await PythonWire.JsonOf(await PostAsync(cas, host, $"/xet-cas/v1/xorbs/default/{xorb.Hash}", xorb.Bytes, first));
        Assert.True(inserted.GetProperty("was_inserted").GetBoolean());
        var again = await PythonWire.JsonOf(await PostAsync(cas, host, $"/xet-cas/v1/xorbs/default/{xorb.Hash}", xorb.Bytes, second));
        Assert.False(again.GetProperty("was_inserted").GetBoolean());
        var stored = Directory.GetFiles(Path.Combine(host.Root, "objects", "xorbs"), "*", SearchOption.AllDirectories);
        Assert.Equal(xorb.Hash, Path.GetFileName(Assert.Single(stored)));
        Assert.Equal(xorb.Bytes, await File.ReadAllBytesAsync(stored[0]));
    }

    [Fact]
    public async Task A_shard_registers_a_file_only_when_it_rebuilds_and_the_file_then_commits_lists_resolves_and_reconstructs()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [$"write:{Writer}", $"read:{Reader}"]);
        var client = host.Client(Writer);
        await client.Repositories.CreateRepoAsync("me/xet", isPrivate: true);
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        var write = await CasTokenAsync(host, "me/xet", write: true);
        var data = RandomNumberGenerator.GetBytes(700_000);
        var xorb = Xorb(data, XetCompressionScheme.ByteGrouping4Lz4);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(data));

        // A shard may only name stored xorbs.
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(http, host, "/xet-cas/v1/shards", Shard(xorb, sha256), write)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, host, $"/xet-cas/v1/xorbs/default/{xorb.Hash}", xorb.Bytes, write)).StatusCode);
        // Every claim is checked against the stored chunks: the SHA-256, the file hash, each verification hash.
        var wrongSha = await PythonWire.ErrorOf(await PostAsync(http, host, "/xet-cas/v1/shards", Shard(xorb, new string('0', 64)), write), 400);
        Assert.Contains(sha256, wrongSha.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(http, host, "/xet-cas/v1/shards", Shard(xorb, sha256, fileHash: XetHash.Parse(xorb.Hash)), write)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(http, host, "/xet-cas/v1/shards", Shard(xorb, sha256, verification: XetHash.Parse(xorb.Hash)), write)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(http, host, "/xet-cas/v1/shards", Shard(xorb, sha256), await CasTokenAsync(host, "me/xet", write: false))).StatusCode);
        Assert.Equal(1, (await PythonWire.JsonOf(await PostAsync(http, host, "/xet-cas/v1/shards", Shard(xorb, sha256), write))).GetProperty("result").GetInt32());
        Assert.Equal(0, (await PythonWire.JsonOf(await PostAsync(http, host, "/xet-cas/v1/shards", Shard(xorb, sha256), write))).GetProperty("result").GetInt32());

        // The LFS batch offers Xet to a client that asks for it; the uploaded object needs no action, a new one
        // gets the write-token route and the CAS headers.
        using var wire = new PythonWire(host.Server.Endpoint, Writer);
        var unknown = Convert.ToHexStringLower(SHA256.HashData([1, 2, 3]));
        var batch = await PythonWire.JsonOf(await wire.PostJsonAsync("/me/xet.git/info/lfs/objects/batch", new
        {
            operation = "upload",
            transfers = new[] { "basic", "multipart", "xet" },
            hash_algo = "sha_256",
            objects = new object[] { new { oid = sha256, size = data.Length }, new { oid = unknown, size = 3 } },
        }));
        Assert.Equal("xet", batch.GetProperty("transfer").GetString());
        var objects = batch.GetProperty("objects").EnumerateArray().ToList();
        Assert.False(objects[0].TryGetProperty("actions", out _));
        var upload = objects[1].GetProperty("actions").GetProperty("upload");
        Assert.EndsWith("/api/models/me/xet/xet-write-token/main", upload.GetProperty("href").GetString());
        Assert.EndsWith("/xet-cas", upload.GetProperty("header").GetProperty("X-Xet-Cas-Url").GetString());
        var batchToken = upload.GetProperty("header").GetProperty("X-Xet-Access-Token").GetString();
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, host, $"/xet-cas/v1/xorbs/default/{xorb.Hash}", xorb.Bytes, batchToken)).StatusCode);

        // The commit names the object by SHA-256; the tree lists its Xet hash.
        var commit = await wire.CommitAsync("me/xet", "main", "Add through Xet", [new { key = "lfsFile", value = new { path = "model.safetensors", algo = "sha256", oid = sha256, size = data.Length } }]);
        Assert.Equal(HttpStatusCode.OK, commit.StatusCode);
        var tree = (await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/xet/tree/main"))).EnumerateArray().Single(e => e.GetProperty("path").GetString() == "model.safetensors");
        Assert.Equal(xorb.FileHash, tree.GetProperty("xetHash").GetString());
        Assert.Equal(sha256, tree.GetProperty("lfs").GetProperty("oid").GetString());

        // resolve: a Xet-aware client gets the file info and links, everyone else the redirect to plain bytes.
        var resolveUrl = $"{host.Server.Endpoint.ToString().TrimEnd('/')}/me/xet/resolve/main/model.safetensors";
        using (var info = new HttpRequestMessage(HttpMethod.Get, resolveUrl))
        {
            info.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Reader);
            info.Headers.Accept.ParseAdd("application/vnd.xet-fileinfo+json");
            using var answer = await http.SendAsync(info);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal("application/vnd.xet-fileinfo+json", answer.Content.Headers.ContentType?.MediaType);
            Assert.Equal(xorb.FileHash, answer.Headers.GetValues("X-Xet-Hash").Single());
            Assert.Equal(data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), answer.Headers.GetValues("X-Linked-Size").Single());
            var link = string.Join(", ", answer.Headers.GetValues("Link"));
            Assert.Contains($"/xet-cas/v1/reconstructions/{xorb.FileHash}>; rel=\"xet-reconstruction-info\"", link);
            Assert.Contains("/api/models/me/xet/xet-read-token/", link);
            Assert.Equal(xorb.FileHash, Json(await answer.Content.ReadAsStringAsync()).GetProperty("hash").GetString());
        }
        using var plain = await GetAsync(http, resolveUrl, Reader);
        Assert.Equal(HttpStatusCode.Found, plain.StatusCode);
        Assert.Equal(xorb.FileHash, plain.Headers.GetValues("X-Xet-Hash").Single());
        using (var bytes = await GetAsync(http, plain.Headers.Location!.ToString(), null))
        {
            Assert.Equal(data, await bytes.Content.ReadAsByteArrayAsync());
        }
        using (var part = await GetAsync(http, plain.Headers.Location!.ToString(), null, "bytes=100000-300000"))
        {
            Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
            Assert.Equal(data[100000..300001], await part.Content.ReadAsByteArrayAsync());
        }

        // Reconstructions, whole and from an offset, with a read token of the repository.
        var (whole, chunks) = await ReconstructAsync(host, "me/xet", xorb.FileHash, Reader);
        Assert.Equal(data, whole);
        Assert.Equal(xorb.Infos, chunks);
        var (tail, _) = await ReconstructAsync(host, "me/xet", xorb.FileHash, Reader, "bytes=250000-");
        Assert.Equal(data[250000..], tail);
    }

    [Fact]
    public async Task A_token_for_one_repository_never_reads_or_commits_another_repositorys_xet_files_without_the_chunks()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [$"write:{Writer}"]);
        var client = host.Client(Writer);
        await client.Repositories.CreateRepoAsync("me/owner", isPrivate: true);
        await client.Repositories.CreateRepoAsync("me/other");
        using var http = new HttpClient();
        var data = RandomNumberGenerator.GetBytes(300_000);
        var xorb = Xorb(data);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(data));
        var owner = await CasTokenAsync(host, "me/owner", write: true);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, host, $"/xet-cas/v1/xorbs/default/{xorb.Hash}", xorb.Bytes, owner)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, host, "/xet-cas/v1/shards", Shard(xorb, sha256), owner)).StatusCode);

        // Knowing the hashes is not enough: no reconstruction, no commit by SHA-256, no shard without the chunks.
        var other = await CasTokenAsync(host, "me/other", write: true);
        var otherRead = await CasTokenAsync(host, "me/other", write: false);
        var reconstruction = $"{host.Server.Endpoint.ToString().TrimEnd('/')}/xet-cas/v2/reconstructions/{xorb.FileHash}";
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, reconstruction, otherRead)).StatusCode);
        using var wire = new PythonWire(host.Server.Endpoint, Writer);
        var lfsFile = new { key = "lfsFile", value = new { path = "stolen.bin", algo = "sha256", oid = sha256, size = data.Length } };
        Assert.Equal(HttpStatusCode.BadRequest, (await wire.CommitAsync("me/other", "main", "Take it", [lfsFile])).StatusCode);
        var guessed = await PostAsync(http, host, "/xet-cas/v1/shards", Shard(xorb, sha256, verification: XetHash.Parse(xorb.FileHash)), other);
        Assert.Equal(HttpStatusCode.BadRequest, guessed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, reconstruction, otherRead)).StatusCode);

        // The dedupe query lists the xorb under a fresh key: a client holding a chunk recognises it, nobody learns hashes.
        var dedupe = await GetAsync(http, $"{host.Server.Endpoint.ToString().TrimEnd('/')}/xet-cas/v1/chunks/default/{xorb.Infos[1].Hash}", other);
        Assert.Equal(HttpStatusCode.OK, dedupe.StatusCode);
        var listed = Adapters.Hub.Xet.Shards.XetShardReader.Read(await dedupe.Content.ReadAsByteArrayAsync(), "dedupe answer");
        var listedXorb = Assert.Single(listed.Xorbs);
        Assert.Equal(xorb.Hash, listedXorb.XorbHash.ToString());
        Assert.True(listed.HasKeyedChunkHashes);
        Assert.Equal(xorb.Infos.Select(c => listed.ListedFormOf(c.Hash)), listedXorb.Chunks.Select(c => c.Hash));
        Assert.DoesNotContain(listedXorb.Chunks, c => xorb.Infos.Any(i => i.Hash == c.Hash));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, $"{host.Server.Endpoint.ToString().TrimEnd('/')}/xet-cas/v1/chunks/default-merkledb/{XetHashing.ChunkHash([9, 9, 9])}", other)).StatusCode);

        // Whoever holds the chunks proves it with the verification hashes and may then use the stored file.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, host, "/xet-cas/v1/shards", Shard(xorb, sha256), other)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await wire.CommitAsync("me/other", "main", "Same bytes", [lfsFile])).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, reconstruction, otherRead)).StatusCode);
        Assert.Single(Directory.GetFiles(Path.Combine(host.Root, "objects", "xorbs"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Pushing_a_file_again_after_rewriting_one_percent_of_it_stores_little_more_than_that_region()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [$"write:{Writer}"]);
        var client = host.Client(Writer);
        await client.Repositories.CreateRepoAsync("me/base");
        await client.Repositories.CreateRepoAsync("me/tuned");
        var original = RandomNumberGenerator.GetBytes(32 * 1024 * 1024);
        await client.Commits.CreateCommitAsync("me/base", [Adapters.Hub.Upload.CommitOperation.AddBytes("model.safetensors", original)], "Base model");
        var afterFirst = XorbBytes(host);
        Assert.InRange(afterFirst, original.Length, original.Length + original.Length / 100);

        // One contiguous region of 1 % (a tensor) rewritten, pushed to another repository: its chunks and about
        // two chunks at each edge are new; every other chunk is found through the global dedupe query.
        var tuned = (byte[])original.Clone();
        var region = original.Length / 100;
        RandomNumberGenerator.Fill(tuned.AsSpan(original.Length / 2, region));
        await client.Commits.CreateCommitAsync("me/tuned", [Adapters.Hub.Upload.CommitOperation.AddBytes("model.safetensors", tuned)], "Fine-tuned");
        var growth = XorbBytes(host) - afterFirst;
        output.WriteLine($"32 MiB file: first push stored {afterFirst} xorb bytes; after rewriting {region} bytes (1 %), the second push added {growth} ({100.0 * growth / original.Length:0.00} % of the file).");
        Assert.InRange(growth, region, region + 4 * XetChunker.MaximumChunkSize);

        // Both files read back whole from the shared chunks.
        Assert.Equal(tuned, await File.ReadAllBytesAsync(await host.Client(Writer, useXet: false).Files.DownloadFileAsync("me/tuned", "model.safetensors")));
        Assert.Equal(original, await File.ReadAllBytesAsync(await host.Client(Writer).Files.DownloadFileAsync("me/base", "model.safetensors")));
    }

    private static long XorbBytes(ServeTestHost host) =>
        Directory.GetFiles(Path.Combine(host.Root, "objects", "xorbs"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    /// <summary>
    /// A shard recording <paramref name="xorb"/> as one file (one term over all its chunks) with its verification
    /// hash and SHA-256; <paramref name="fileHash"/> or <paramref name="verification"/> replace the true values.
    /// </summary>
    private static byte[] Shard((byte[] Bytes, string Hash, List<byte[]> Chunks, List<XetChunkInfo> Infos, string FileHash) xorb, string sha256, XetHash? fileHash = null, XetHash? verification = null)
    {
        var xorbHash = XetHash.Parse(xorb.Hash);
        var length = (int)xorb.Infos.Sum(c => c.Length);
        var file = new Adapters.Hub.Xet.Shards.XetShardFileInfo(
            fileHash ?? XetHash.Parse(xorb.FileHash),
            [new Adapters.Hub.Xet.Shards.XetShardFileSegment(xorbHash, length, 0, xorb.Infos.Count)],
            [verification ?? XetHashing.VerificationHash(xorb.Infos.Select(c => c.Hash).ToList())],
            sha256);
        var xorbInfo = Adapters.Hub.Xet.Shards.XetShardXorbInfo.FromChunks(xorbHash, xorb.Infos, xorb.Bytes.Length);
        return Adapters.Hub.Xet.Shards.XetShardWriter.Serialize(new Adapters.Hub.Xet.Shards.XetShard([file], [xorbInfo]));
    }

    /// <summary>
    /// Downloads a file as a Xet client does, through the v1 reconstruction API with a read token from the token
    /// route: fetches each presigned xorb range, decodes its chunks and keeps those of each term, skipping
    /// <c>offset_into_first_range</c>. Returns the bytes and the chunks (hash and length) in file order.
    /// </summary>
    internal static async Task<(byte[] Bytes, List<XetChunkInfo> Chunks)> ReconstructAsync(ServeTestHost host, string repo, string fileHash, string hubToken, string? range = null)
    {
        var token = await CasTokenAsync(host, repo, write: false, hubToken);
        using var http = new HttpClient();
        var answer = await PythonWire.JsonOf(await GetAsync(http, $"{host.Server.Endpoint.ToString().TrimEnd('/')}/xet-cas/v1/reconstructions/{fileHash}", token, range));
        var output = new MemoryStream();
        var chunks = new List<XetChunkInfo>();
        var fetchInfo = answer.GetProperty("fetch_info");
        var skip = answer.GetProperty("offset_into_first_range").GetInt64();
        foreach (var term in answer.GetProperty("terms").EnumerateArray())
        {
            var xorb = term.GetProperty("hash").GetString()!;
            var (start, end) = (term.GetProperty("range").GetProperty("start").GetInt32(), term.GetProperty("range").GetProperty("end").GetInt32());
            var fetch = fetchInfo.GetProperty(xorb).EnumerateArray().First(f =>
                f.GetProperty("range").GetProperty("start").GetInt32() <= start && f.GetProperty("range").GetProperty("end").GetInt32() >= end);
            var urlRange = fetch.GetProperty("url_range");
            using var response = await GetAsync(http, fetch.GetProperty("url").GetString()!, null,
                $"bytes={urlRange.GetProperty("start").GetInt64()}-{urlRange.GetProperty("end").GetInt64()}");
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            var decoded = XorbReader.ReadChunks(await response.Content.ReadAsByteArrayAsync(), xorb);
            var first = fetch.GetProperty("range").GetProperty("start").GetInt32();
            var termBytes = new MemoryStream();
            foreach (var chunk in decoded.Skip(start - first).Take(end - start))
            {
                chunks.Add(new XetChunkInfo(XetHashing.ChunkHash(chunk), chunk.Length));
                termBytes.Write(chunk);
            }
            Assert.Equal(term.GetProperty("unpacked_length").GetInt64(), termBytes.Length);
            output.Write(termBytes.GetBuffer(), (int)skip, (int)(termBytes.Length - skip));
            skip = 0;
        }
        return (output.ToArray(), chunks);
    }

    /// <summary>A serialised xorb of <paramref name="data"/> cut by the content-defined chunker, with its chunks, its hash and the hash of <paramref name="data"/> as a file.</summary>
    internal static (byte[] Bytes, string Hash, List<byte[]> Chunks, List<XetChunkInfo> Infos, string FileHash) Xorb(byte[] data, XetCompressionScheme scheme = XetCompressionScheme.None)
    {
        var chunks = new List<byte[]>();
        var offset = 0;
        foreach (var length in XetChunker.ChunkLengths(data))
        {
            chunks.Add(data[offset..(offset + length)]);
            offset += length;
        }
        var infos = chunks.Select(c => new XetChunkInfo(XetHashing.ChunkHash(c), c.Length)).ToList();
        var bytes = XorbWriter.Serialize(chunks.Select(c => (ReadOnlyMemory<byte>)c).ToList(), scheme);
        return (bytes, XetHashing.XorbHash(infos).ToString(), chunks, infos, XetHashing.FileHash(infos).ToString());
    }

    internal static async Task<string> CasTokenAsync(ServeTestHost host, string repo, bool write, string token = Writer)
    {
        using var wire = new PythonWire(host.Server.Endpoint, token);
        var answer = await PythonWire.JsonOf(await wire.GetAsync($"/api/models/{repo}/xet-{(write ? "write" : "read")}-token/main"));
        return answer.GetProperty("accessToken").GetString()!;
    }

    internal static async Task<HttpResponseMessage> PostAsync(HttpClient http, ServeTestHost host, string path, byte[] body, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, host.Server.Endpoint.ToString().TrimEnd('/') + path) { Content = new ByteArrayContent(body) };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    internal static async Task<HttpResponseMessage> GetAsync(HttpClient http, string url, string? token, string? range = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (range is not null) request.Headers.Range = RangeHeaderValue.Parse(range);
        return await http.SendAsync(request);
    }

    /// <summary>The token with one character of its signature changed.</summary>
    private static string Tamper(string token) => token[..^1] + (token[^1] == '0' ? '1' : '0');

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;
}
