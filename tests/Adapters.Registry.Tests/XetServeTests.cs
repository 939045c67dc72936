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
public sealed class XetServeTests
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

    /// <summary>A serialised xorb of <paramref name="data"/> cut by the content-defined chunker, with its chunks and hash.</summary>
    internal static (byte[] Bytes, string Hash, List<byte[]> Chunks, List<XetChunkInfo> Infos) Xorb(byte[] data, XetCompressionScheme scheme = XetCompressionScheme.None)
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
        return (bytes, XetHashing.XorbHash(infos).ToString(), chunks, infos);
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
