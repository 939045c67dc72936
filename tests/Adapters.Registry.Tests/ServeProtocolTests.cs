using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Adapters.Hub;
using Adapters.Hub.Upload;

namespace Adapters.Registry.Tests;

/// <summary>The Hub behaviours clients rely on: error codes, optimistic locking, ranges, redirects and token scopes.</summary>
public sealed class ServeProtocolTests
{
    [Fact]
    public async Task Missing_repositories_revisions_and_files_answer_the_hub_error_codes()
    {
        await using var host = await ServeTestHost.StartAsync();
        var client = host.Client();
        await client.Repositories.CreateRepoAsync("me/codes");

        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => client.Repositories.ModelInfoAsync("me/absent"));
        await Assert.ThrowsAsync<RevisionNotFoundException>(() => client.Repositories.ModelInfoAsync("me/codes", revision: "no-such-branch"));
        await Assert.ThrowsAsync<RevisionNotFoundException>(() => client.Files.DownloadFileAsync("me/codes", ".gitattributes", revision: new string('a', 40)));
        var missing = await Assert.ThrowsAsync<EntryNotFoundException>(() => client.Files.DownloadFileAsync("me/codes", "nope.txt"));
        Assert.Equal("EntryNotFound", missing.ErrorCode);
        // The 404 names the commit, so the client records Python's .no_exist marker for it.
        var head = (await client.Repositories.ModelInfoAsync("me/codes")).Sha!;
        Assert.True(File.Exists(Path.Combine(client.Options.CacheDirectory, "models--me--codes", ".no_exist", head, "nope.txt")));

        await Assert.ThrowsAsync<HubConflictException>(() => client.Repositories.CreateRepoAsync("me/codes"));
        await client.Repositories.CreateRepoAsync("me/codes", existOk: true);
        var deleteMissing = await Assert.ThrowsAsync<EntryNotFoundException>(() =>
            client.Commits.CreateCommitAsync("me/codes", [CommitOperation.DeleteFile("never-there.txt")], "Delete"));
        Assert.Contains("never-there.txt", deleteMissing.Message);
    }

    [Fact]
    public async Task A_commit_on_a_stale_parent_is_refused_with_412_and_changes_nothing()
    {
        await using var host = await ServeTestHost.StartAsync();
        var client = host.Client();
        await client.Repositories.CreateRepoAsync("me/locking");
        var parent = (await client.Repositories.ModelInfoAsync("me/locking")).Sha!;
        var first = await client.Commits.CreateCommitAsync("me/locking", [CommitOperation.AddBytes("a.txt", "a"u8.ToArray())], "First", new CommitOptions { ParentCommit = parent });

        var stale = await Assert.ThrowsAsync<HubConflictException>(() =>
            client.Commits.CreateCommitAsync("me/locking", [CommitOperation.AddBytes("b.txt", "b"u8.ToArray())], "Second", new CommitOptions { ParentCommit = parent }));
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Contains("The branch was updated", stale.Message);
        Assert.Equal(first.CommitOid, (await client.Repositories.ModelInfoAsync("me/locking")).Sha);

        // A short parent id of the current head is accepted, as on the Hub.
        var third = await client.Commits.CreateCommitAsync("me/locking", [CommitOperation.AddBytes("b.txt", "b"u8.ToArray())], "Second", new CommitOptions { ParentCommit = first.CommitOid[..7] });
        Assert.Equal(third.CommitOid, (await client.Repositories.ModelInfoAsync("me/locking")).Sha);
    }

    [Fact]
    public async Task Concurrent_commits_to_one_branch_are_serialized_and_none_is_lost()
    {
        await using var host = await ServeTestHost.StartAsync();
        var client = host.Client();
        await client.Repositories.CreateRepoAsync("me/busy");
        var commits = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            client.Commits.CreateCommitAsync("me/busy", [CommitOperation.AddBytes($"file-{i}.txt", Encoding.ASCII.GetBytes($"content {i}"))], $"Commit {i}")));
        Assert.Equal(8, commits.Select(c => c.CommitOid).Distinct().Count());
        var info = await client.Repositories.ModelInfoAsync("me/busy");
        Assert.Equal(9, info.Siblings.Count);
    }

    [Fact]
    public async Task Resolve_serves_ranges_and_redirects_lfs_files_to_the_blob_route()
    {
        await using var host = await ServeTestHost.StartAsync();
        var client = host.Client();
        await client.Repositories.CreateRepoAsync("me/ranges");
        var text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 100).Select(i => $"{i:D3},")));
        var weights = RandomNumberGenerator.GetBytes(300_000);
        var commit = await client.Commits.CreateCommitAsync("me/ranges", [CommitOperation.AddBytes("table.csv", text), CommitOperation.AddBytes("w.bin", weights), CommitOperation.AddBytes("empty.bin", [])], "Add");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var baseUrl = host.Server.Endpoint.ToString().TrimEnd('/');

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/me/ranges/resolve/main/table.csv"))
        {
            request.Headers.Range = new RangeHeaderValue(8, 15);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal(text[8..16], await response.Content.ReadAsByteArrayAsync());
            Assert.Equal($"bytes 8-15/{text.Length}", response.Content.Headers.ContentRange!.ToString());
            Assert.Equal(commit.CommitOid, response.Headers.GetValues("X-Repo-Commit").Single());
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/me/ranges/resolve/main/table.csv"))
        {
            request.Headers.Range = new RangeHeaderValue(text.Length + 5, null);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        }

        var sha = Convert.ToHexStringLower(SHA256.HashData(weights));
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{baseUrl}/me/ranges/resolve/main/w.bin"));
        Assert.Equal(HttpStatusCode.Found, head.StatusCode);
        Assert.Equal($"\"{sha}\"", head.Headers.GetValues("X-Linked-Etag").Single());
        Assert.Equal("300000", head.Headers.GetValues("X-Linked-Size").Single());
        Assert.Equal(commit.CommitOid, head.Headers.GetValues("X-Repo-Commit").Single());
        var location = head.Headers.Location!;
        Assert.StartsWith($"{baseUrl}/lfs-blobs/{sha}?", location.ToString());

        using (var request = new HttpRequestMessage(HttpMethod.Get, location))
        {
            request.Headers.Range = new RangeHeaderValue(null, 1000);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal(weights[^1000..], await response.Content.ReadAsByteArrayAsync());
        }

        using var pointer = await http.GetAsync($"{baseUrl}/me/ranges/raw/main/w.bin");
        Assert.Equal($"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize 300000\n", await pointer.Content.ReadAsStringAsync());

        // An empty file is always regular (never LFS) and a range request on it gets the empty body.
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/me/ranges/resolve/main/empty.bin"))
        {
            request.Headers.Range = new RangeHeaderValue(0, 0);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }
        Assert.Empty(await File.ReadAllBytesAsync(await client.Files.DownloadFileAsync("me/ranges", "empty.bin")));

        var metadata = await client.Files.GetFileMetadataAsync("me/ranges", "w.bin");
        Assert.Equal(sha, metadata.Etag);
        Assert.Equal(300_000, metadata.Size);
        Assert.Equal(commit.CommitOid, metadata.CommitHash);
    }

    [Fact]
    public async Task Tokens_have_read_and_write_scopes_and_unknown_tokens_are_refused()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: ["read:hf_reader", "write:hf_writer"]);
        var writer = host.Client("hf_writer");
        var reader = host.Client("hf_reader");
        var anonymous = host.Client();
        var stranger = host.Client("hf_stranger");

        await writer.Repositories.CreateRepoAsync("team/private-adapter", isPrivate: true);
        await writer.Commits.CreateCommitAsync("team/private-adapter", [CommitOperation.AddBytes("w.bin", RandomNumberGenerator.GetBytes(2048))], "Add weights");
        await writer.Repositories.CreateRepoAsync("team/public-adapter");
        await writer.Commits.CreateCommitAsync("team/public-adapter", [CommitOperation.AddBytes("w.bin", RandomNumberGenerator.GetBytes(2048))], "Add weights");

        var readBack = await reader.Files.SnapshotDownloadAsync("team/private-adapter");
        Assert.Contains("w.bin", readBack.Files);
        Assert.Equal("read", (await reader.Repositories.WhoAmIAsync()).Auth!.AccessToken!.Role);

        var forbidden = await Assert.ThrowsAsync<HubHttpException>(() =>
            reader.Commits.CreateCommitAsync("team/private-adapter", [CommitOperation.AddBytes("x.txt", "x"u8.ToArray())], "Not allowed"));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        var forbiddenCreate = await Assert.ThrowsAsync<HubHttpException>(() => reader.Repositories.CreateRepoAsync("team/other"));
        Assert.Equal(HttpStatusCode.Forbidden, forbiddenCreate.StatusCode);
        var anonymousWrite = await Assert.ThrowsAsync<RepositoryNotFoundException>(() =>
            anonymous.Commits.CreateCommitAsync("team/public-adapter", [CommitOperation.AddBytes("x.txt", "x"u8.ToArray())], "Not allowed"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousWrite.StatusCode);

        // As on the Hub: public repositories are readable without a token, a private one looks missing (401).
        Assert.Contains("w.bin", (await anonymous.Files.SnapshotDownloadAsync("team/public-adapter")).Files);
        var hidden = await Assert.ThrowsAsync<RepositoryNotFoundException>(() => anonymous.Repositories.ModelInfoAsync("team/private-adapter"));
        Assert.Equal(HttpStatusCode.Unauthorized, hidden.StatusCode);
        var listedAnonymously = new List<string>();
        await foreach (var model in anonymous.Repositories.ListModelsAsync(author: "team")) listedAnonymously.Add(model.Id);
        Assert.Equal(["team/public-adapter"], listedAnonymously);
        var listedWithToken = new List<string>();
        await foreach (var model in reader.Repositories.ListModelsAsync(author: "team")) listedWithToken.Add(model.Id);
        Assert.Equal(["team/private-adapter", "team/public-adapter"], listedWithToken);
        var invalid = await Assert.ThrowsAsync<HubHttpException>(() => stranger.Repositories.ModelInfoAsync("team/public-adapter"));
        Assert.Equal(HttpStatusCode.Unauthorized, invalid.StatusCode);
        Assert.IsNotType<RepositoryNotFoundException>(invalid);

        // The signed LFS redirect works without a token, as a CDN URL does; a bare blob URL does not.
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var resolve = new HttpRequestMessage(HttpMethod.Head, $"{host.Server.Endpoint}team/private-adapter/resolve/main/w.bin");
        resolve.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "hf_reader");
        using var redirect = await http.SendAsync(resolve);
        var signed = redirect.Headers.Location!;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(signed)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(signed.GetLeftPart(UriPartial.Path))).StatusCode);
        var tampered = signed.ToString().Replace("expires=", "expires=9", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(tampered)).StatusCode);
    }

    [Fact]
    public async Task An_abandoned_upload_leaves_the_registry_consistent_and_a_restart_clears_its_leftovers()
    {
        await using var host = await ServeTestHost.StartAsync();
        var client = host.Client();
        await client.Repositories.CreateRepoAsync("me/durable");
        var head = (await client.Repositories.ModelInfoAsync("me/durable")).Sha!;
        var payload = RandomNumberGenerator.GetBytes(2_000_000);
        var oid = Convert.ToHexStringLower(SHA256.HashData(payload));
        var baseUrl = host.Server.Endpoint.ToString().TrimEnd('/');
        using var http = new HttpClient();

        var batch = await http.PostAsync($"{baseUrl}/me/durable.git/info/lfs/objects/batch", new StringContent(
            JsonSerializer.Serialize(new { operation = "upload", transfers = new[] { "basic" }, objects = new[] { new { oid, size = payload.Length } }, hash_algo = "sha256" }),
            Encoding.UTF8, "application/vnd.git-lfs+json"));
        batch.EnsureSuccessStatusCode();
        var href = JsonDocument.Parse(await batch.Content.ReadAsStringAsync()).RootElement.GetProperty("objects")[0].GetProperty("actions").GetProperty("upload").GetProperty("href").GetString()!;

        // The client sends half the announced bytes, then dies.
        await Assert.ThrowsAnyAsync<Exception>(() => http.PutAsync(href, new AbandonedContent(payload, payload.Length / 2)));

        var blob = Path.Combine(host.Root, "objects", "lfs", oid[..2], oid[2..4], oid);
        Assert.False(File.Exists(blob));
        var commitAnyway = await Assert.ThrowsAsync<BadRequestException>(() => PostCommitAsync(http, baseUrl, oid, payload.Length));
        Assert.Equal(HttpStatusCode.BadRequest, commitAnyway.StatusCode);
        Assert.Equal(head, (await client.Repositories.ModelInfoAsync("me/durable")).Sha);
        await WaitUntilAsync(() => !Directory.EnumerateFiles(Path.Combine(host.Root, "tmp"), "*", SearchOption.AllDirectories).Any());

        // A crash leaves partial files in tmp/ and an orphan commit file; a restart must keep serving the old head.
        Directory.CreateDirectory(Path.Combine(host.Root, "tmp", "upload-dead"));
        await File.WriteAllBytesAsync(Path.Combine(host.Root, "tmp", "upload-dead", "00001.part"), payload[..1000]);
        await host.RestartAsync();
        Assert.False(Directory.Exists(Path.Combine(host.Root, "tmp", "upload-dead")));
        var after = host.Client();
        Assert.Equal(head, (await after.Repositories.ModelInfoAsync("me/durable")).Sha);

        // The same upload, done properly (through LFS, as it began), now succeeds.
        var committed = await host.Client(useXet: false).Commits.CreateCommitAsync("me/durable", [CommitOperation.AddBytes("w.bin", payload)], "Add weights");
        Assert.True(File.Exists(blob));
        Assert.Equal(payload, await File.ReadAllBytesAsync(await host.Client().Files.DownloadFileAsync("me/durable", "w.bin", committed.CommitOid)));
    }

    [Fact]
    public async Task A_second_server_cannot_take_over_a_root_that_is_being_served()
    {
        await using var host = await ServeTestHost.StartAsync();
        var error = await Assert.ThrowsAsync<IOException>(() => RegistryServer.StartAsync(new RegistryServerOptions { RootDirectory = host.Root }));
        Assert.Contains("already served by another process", error.Message);
        // The first server is untouched.
        await host.Client().Repositories.CreateRepoAsync("me/still-here");
    }

    private static async Task PostCommitAsync(HttpClient http, string baseUrl, string oid, long size)
    {
        var body = "{\"key\":\"header\",\"value\":{\"summary\":\"Add weights\",\"description\":\"\"}}\n"
            + JsonSerializer.Serialize(new { key = "lfsFile", value = new { path = "w.bin", algo = "sha256", oid, size } }) + "\n";
        using var response = await http.PostAsync($"{baseUrl}/api/models/me/durable/commit/main", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
        await Adapters.Hub.Http.HubErrorMap.EnsureSuccessAsync(response);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var attempt = 0; attempt < 50 && !condition(); attempt++) await Task.Delay(100);
        Assert.True(condition());
    }

    /// <summary>Announces the full length but fails after <c>sent</c> bytes, like a client that crashed mid-upload.</summary>
    private sealed class AbandonedContent(byte[] payload, int sent) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(payload.AsMemory(0, sent));
            await stream.FlushAsync();
            throw new IOException("client crashed mid-upload");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = payload.Length;
            return true;
        }
    }
}
