using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Adapters.Hub;
using Adapters.Hub.Cache;
using Adapters.Hub.Upload;
using Adapters.Registry;

namespace Adapters.Registry.Tests;

/// <summary>
/// Untrusted requests never take the registry down: tokens are checked before bodies are read, bodies are
/// capped while they stream in, slow clients are cut off, paths follow the client's own rule, and a restart
/// serves every repository again (issue 16, item 2). Memory under floods is measured by the bench soak.
/// </summary>
public sealed class ServeHardeningTests
{
    private const string Writer = "hf_writer_token";
    private const long FourHundredMiB = 400L * 1024 * 1024;

    [Fact]
    public async Task Unauthenticated_400_MiB_bodies_are_refused_before_they_are_read_and_the_connection_is_closed()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer]);
        using (var wire = new PythonWire(host.Server.Endpoint, Writer))
        {
            await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "target", organization = "me", visibility = "private" }));
        }
        var routes = new[]
        {
            "/api/models/me/target/commit/main",
            "/api/models/me/target/preupload/main",
            "/api/repos/create",
            "/me/target.git/info/lfs/objects/batch",
            "/api/models/me/target/discussions",
        };
        foreach (var route in routes)
        {
            var clock = Stopwatch.StartNew();
            var (status, headers, sentBytes) = await RawPostAsync(host.Server.Endpoint, route, FourHundredMiB, sendBytes: 8L * 1024 * 1024);
            Assert.True(status == 401, $"{route}: {status}");
            Assert.Contains("connection: close", headers, StringComparison.OrdinalIgnoreCase);
            // The server answered and hung up long before the announced body could have been read.
            Assert.True(sentBytes < FourHundredMiB, route);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{route} took {clock.Elapsed}");
        }

        // validate-yaml needs no token, so its cap decides: a declared 400 MiB is refused before reading.
        var (yamlStatus, yamlHeaders, _) = await RawPostAsync(host.Server.Endpoint, "/api/validate-yaml", FourHundredMiB, sendBytes: 1024 * 1024);
        Assert.Equal(413, yamlStatus);
        Assert.Contains("connection: close", yamlHeaders, StringComparison.OrdinalIgnoreCase);
        // The registry still serves.
        using var reader = new PythonWire(host.Server.Endpoint, Writer);
        await PythonWire.JsonOf(await reader.GetAsync("/api/models/me/target"));
    }

    [Fact]
    public async Task Bodies_over_a_routes_cap_are_refused_while_streaming_even_without_a_length()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer], customize: o => o with
        {
            LfsThreshold = 64 * 1024,
            MaxJsonBodyBytes = 64 * 1024,
            MaxCommitBodyBytes = 4 * 1024 * 1024,
        });
        using var wire = new PythonWire(host.Server.Endpoint, Writer);
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "capped", organization = "me" }));

        // A chunked JSON body (no Content-Length) larger than the JSON cap: 413 once the cap is passed.
        // (Raw sockets: the server answers while the client is still sending, which HttpClient does not surface.)
        var (status, _, sent) = await RawPostAsync(host.Server.Endpoint, "/api/models/me/capped/preupload/main", null, 10L * 1024 * 1024, Writer, "{\"files\": [");
        Assert.Equal(413, status);
        Assert.True(sent < 10L * 1024 * 1024);

        // One NDJSON line longer than the line cap (about 150 KB here): refused, whatever the body's total.
        var (lineStatus, lineAnswer, lineSent) = await RawPostAsync(host.Server.Endpoint, "/api/models/me/capped/commit/main", null, 50L * 1024 * 1024, Writer, "{\"key\":\"header\",\"value\":{\"summary\":\"");
        Assert.Equal(413, lineStatus);
        Assert.True(lineAnswer.Contains("A line of the commit", StringComparison.Ordinal), lineAnswer);
        Assert.True(lineSent < 50L * 1024 * 1024);

        // Many short lines past the whole-body cap: refused too, and nothing was committed.
        var head = (await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/capped"))).GetProperty("sha").GetString();
        var lines = new StringBuilder("{\"key\":\"header\",\"value\":{\"summary\":\"many\"}}\n");
        for (var i = 0; lines.Length < 5 * 1024 * 1024; i++) lines.Append("{\"key\":\"deletedFile\",\"value\":{\"path\":\"x").Append(i).Append(".txt\"}}\n");
        var (manyStatus, _, _) = await RawPostAsync(host.Server.Endpoint, "/api/models/me/capped/commit/main", null, 0, Writer, "", Encoding.ASCII.GetBytes(lines.ToString()));
        Assert.Equal(413, manyStatus);
        Assert.Equal(head, (await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/capped"))).GetProperty("sha").GetString());

        // An inline file just under the LFS threshold still fits its line, and LFS objects are not capped by the JSON limit.
        var client = host.Client(Writer);
        var small = new byte[64 * 1024 - 1];
        Random.Shared.NextBytes(small);
        var large = new byte[300 * 1024];
        Random.Shared.NextBytes(large);
        var commit = await client.Commits.CreateCommitAsync("me/capped", [CommitOperation.AddBytes("small.txt", small), CommitOperation.AddBytes("large.bin", large)], "Fits");
        Assert.Equal(large, await File.ReadAllBytesAsync(await host.Client(Writer).Files.DownloadFileAsync("me/capped", "large.bin", commit.CommitOid)));
    }

    [Fact]
    public async Task Serve_accepts_exactly_the_paths_and_revisions_its_client_accepts()
    {
        await using var host = await ServeTestHost.StartAsync();
        using var wire = new PythonWire(host.Server.Endpoint);
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "paths", organization = "me" }));
        string[] candidates = ["C:/x", "c:x", "/abs.txt", "a//b.txt", "a/./b.txt", "a/../b.txt", "..", ".", "a\\b.txt", "dir/ok.txt", "ok.txt", "name with spaces.txt", "dir.v2/x:y.txt"];
        foreach (var path in candidates)
        {
            using var response = await wire.CommitAsync("me/paths", "main", $"Add {path}", [PythonWire.File(path, "x")]);
            Assert.True(RepoPaths.IsSafe(path) == response.IsSuccessStatusCode, $"'{path}': client says {RepoPaths.IsSafe(path)}, serve answered {(int)response.StatusCode}");
        }
        // Everything that was accepted pulls again.
        var snapshot = await host.Client().Files.SnapshotDownloadAsync("me/paths");
        Assert.Equal(candidates.Where(RepoPaths.IsSafe).Append(".gitattributes").Order(StringComparer.Ordinal), snapshot.Files.Order(StringComparer.Ordinal));

        // Branch and tag names are revisions the client stores under its cache's refs/: the same rule.
        foreach (var name in new[] { "a/./b", "x/../y", "C:" })
        {
            await PythonWire.ErrorOf(await wire.PostJsonAsync($"/api/models/me/paths/branch/{Uri.EscapeDataString(name)}", new { }), 400);
            await PythonWire.ErrorOf(await wire.PostJsonAsync("/api/models/me/paths/tag/main", new { tag = name }), 400);
        }
    }

    [Fact]
    public async Task Slow_clients_are_cut_off_by_the_header_and_body_timeouts()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer], customize: o => o with
        {
            RequestHeadersTimeout = TimeSpan.FromSeconds(2),
            MinBodyRateGracePeriod = TimeSpan.FromSeconds(2),
        });
        using (var wire = new PythonWire(host.Server.Endpoint, Writer))
        {
            await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "slow", organization = "me" }));
        }

        // Slow-loris: headers that never end.
        var clock = Stopwatch.StartNew();
        using (var loris = new TcpClient())
        {
            await loris.ConnectAsync(host.Server.Endpoint.Host, host.Server.Endpoint.Port);
            var stream = loris.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /api/models/me/slow HTTP/1.1\r\nHost: x\r\n"));
            Assert.True(await ClosedWithinAsync(stream, TimeSpan.FromSeconds(15), trickle: "X-Slow: 1\r\n"u8.ToArray()), "the server kept a slow-loris connection open");
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15));

        // A body trickled below the minimum rate, with a valid write token.
        using (var trickle = new TcpClient())
        {
            await trickle.ConnectAsync(host.Server.Endpoint.Host, host.Server.Endpoint.Port);
            var stream = trickle.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST /api/models/me/slow/commit/main HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {Writer}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000000\r\n\r\n"));
            Assert.True(await ClosedWithinAsync(stream, TimeSpan.FromSeconds(20), trickle: "{"u8.ToArray()), "the server kept a trickling upload open");
        }

        // Others are served throughout.
        using var reader = new PythonWire(host.Server.Endpoint, Writer);
        await PythonWire.JsonOf(await reader.GetAsync("/api/models/me/slow"));
    }

    [Fact]
    public async Task After_a_restart_every_repository_tag_and_pull_request_still_pulls()
    {
        await using var host = await ServeTestHost.StartAsync();
        var client = host.Client();
        await client.Repositories.CreateRepoAsync("me/plain");
        await client.Commits.CreateCommitAsync("me/plain", [CommitOperation.AddBytes("README.md", "---\nlicense: mit\ntags: [a, b]\n---\n# card\n"u8.ToArray()), CommitOperation.AddBytes("w.bin", new byte[20_000])], "Card and weights");
        await client.Repositories.CreateRepoAsync("me/broken-card");
        await client.Commits.CreateCommitAsync("me/broken-card", [CommitOperation.AddBytes("README.md", "---\nkey: [unclosed\n---\n"u8.ToArray())], "A card that does not parse");
        await client.Repositories.CreateRepoAsync("solo", repoType: RepoType.Dataset);
        using (var wire = new PythonWire(host.Server.Endpoint))
        {
            await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/plain/tag/main", new { tag = "v1" }));
            await PythonWire.JsonOf(await wire.CommitAsync("me/plain", "main", "Proposal", [PythonWire.File("p.txt", "p")], "?create_pr=1"));
        }

        await host.RestartAsync();
        var after = host.Client();
        foreach (var (repo, type, revision) in new[] { ("me/plain", RepoType.Model, "main"), ("me/plain", RepoType.Model, "v1"), ("me/plain", RepoType.Model, "refs/pr/1"), ("me/broken-card", RepoType.Model, "main"), ("solo", RepoType.Dataset, "main") })
        {
            var snapshot = await after.Files.SnapshotDownloadAsync(repo, revision: revision, repoType: type);
            Assert.Contains(".gitattributes", snapshot.Files);
        }
        Assert.Equal(["a", "b"], (await after.Repositories.ModelInfoAsync("me/plain")).Tags);
        Assert.Empty((await after.Repositories.ModelInfoAsync("me/broken-card")).Tags);
    }

    [Fact]
    public async Task The_request_log_names_method_path_status_and_time_and_never_a_token_or_upload_secret()
    {
        var lines = new List<string>();
        var logger = new ListLogger(lines);
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer], customize: o => o with { RequestLog = logger });
        // LFS, whose upload URLs carry a secret in the path (Xet's CAS token travels only in Authorization).
        var client = host.Client(Writer, useXet: false);
        await client.Repositories.CreateRepoAsync("me/logged");
        await client.Commits.CreateCommitAsync("me/logged", [CommitOperation.AddBytes("w.bin", new byte[2048])], "Weights");
        using (var anonymous = new PythonWire(host.Server.Endpoint))
        {
            await anonymous.GetAsync("/api/models/me/logged?secret=hf_query_value");
        }

        // The line is written once the handler returns, which can be just after the client has read the
        // response; wait (bounded) for the last request's line before reading the log.
        string[] snapshot = [];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            lock (lines) snapshot = [.. lines];
            if (snapshot.Any(l => l.StartsWith("GET /api/models/me/logged ", StringComparison.Ordinal))) break;
            await Task.Delay(20);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Contains(snapshot, l => l.StartsWith("POST /api/repos/create 200 ", StringComparison.Ordinal) && l.EndsWith(" ms", StringComparison.Ordinal));
        Assert.Contains(snapshot, l => l.StartsWith("POST /api/models/me/logged/commit/main 200 ", StringComparison.Ordinal));
        Assert.Contains(snapshot, l => l.StartsWith("GET /api/models/me/logged 200 ", StringComparison.Ordinal));
        var upload = Assert.Single(snapshot, l => l.StartsWith("PUT /lfs-uploads/", StringComparison.Ordinal));
        Assert.Matches(@"^PUT /lfs-uploads/[0-9a-f]{6}\*\*\* 200 ", upload);
        Assert.DoesNotContain(snapshot, l => l.Contains(Writer, StringComparison.Ordinal) || l.Contains("hf_query_value", StringComparison.Ordinal) || l.Contains("signature", StringComparison.Ordinal));
    }

    /// <summary>Sends headers announcing <paramref name="declaredLength"/> bytes, then up to <paramref name="sendBytes"/> of them, and reads the answer.</summary>
    private static Task<(int Status, string Answer, long Sent)> RawPostAsync(Uri endpoint, string path, long declaredLength, long sendBytes) =>
        RawPostAsync(endpoint, path, declaredLength, sendBytes, token: null, prefix: "");

    /// <summary>
    /// A POST over a raw socket, so the server's early answer is read even while the body is still being sent:
    /// <paramref name="prefix"/> then 'a' bytes, with a Content-Length of <paramref name="declaredLength"/> or,
    /// when that is null, chunked (no length at all).
    /// </summary>
    private static async Task<(int Status, string Answer, long Sent)> RawPostAsync(Uri endpoint, string path, long? declaredLength, long sendBytes, string? token, string prefix, byte[]? body = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint.Host, endpoint.Port);
        var stream = tcp.GetStream();
        var head = new StringBuilder($"POST {path} HTTP/1.1\r\nHost: {endpoint.Authority}\r\nContent-Type: application/json\r\n");
        head.Append(declaredLength is { } length ? $"Content-Length: {length}\r\n" : "Transfer-Encoding: chunked\r\n");
        if (token is not null) head.Append($"Authorization: Bearer {token}\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()));
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'a');
        Encoding.ASCII.GetBytes(prefix).CopyTo(chunk, 0);
        var chunkHeader = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
        long sent = 0;
        using var sending = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            for (var offset = 0; body is not null && offset < body.Length; offset += chunk.Length)
            {
                var piece = body.AsMemory(offset, Math.Min(chunk.Length, body.Length - offset));
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"{piece.Length:x}\r\n"), sending.Token);
                await stream.WriteAsync(piece, sending.Token);
                await stream.WriteAsync("\r\n"u8.ToArray(), sending.Token);
                sent += piece.Length;
            }
            while (sent < sendBytes && !sending.IsCancellationRequested)
            {
                if (declaredLength is null) await stream.WriteAsync(chunkHeader, sending.Token);
                await stream.WriteAsync(chunk, sending.Token);
                if (declaredLength is null) await stream.WriteAsync("\r\n"u8.ToArray(), sending.Token);
                sent += chunk.Length;
                if (sent == chunk.Length) Array.Fill(chunk, (byte)'a');
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
        {
            // The server closed the connection while we were still sending: that is the point.
        }
        var response = new StringBuilder();
        var buffer = new byte[4096];
        using var reading = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, reading.Token)) > 0)
            {
                response.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
        {
        }
        var text = response.ToString();
        var status = text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? int.Parse(text[9..12], System.Globalization.CultureInfo.InvariantCulture) : 0;
        return (status, text, sent);
    }

    /// <summary>Keeps trickling a byte sequence every 500 ms; true when the server closes (or resets) the connection within <paramref name="limit"/>.</summary>
    private static async Task<bool> ClosedWithinAsync(NetworkStream stream, TimeSpan limit, byte[] trickle)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new byte[4096];
        while (clock.Elapsed < limit)
        {
            try
            {
                using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
                var read = await stream.ReadAsync(buffer, wait.Token);
                if (read == 0) return true;
                // A 408/400 answer before the close is fine; keep reading until the close.
            }
            catch (OperationCanceledException)
            {
                try
                {
                    await stream.WriteAsync(trickle.AsMemory(0, 1));
                    trickle = [.. trickle[1..], trickle[0]];
                }
                catch (IOException)
                {
                    return true;
                }
            }
            catch (IOException)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Collects formatted log lines.</summary>
    private sealed class ListLogger(List<string> lines) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (lines) lines.Add(formatter(state, exception));
        }
    }
}
