using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Adapters.Bench.Hub;

/// <summary>
/// A minimal Hub on 127.0.0.1 for benchmarks: <c>/resolve/</c> with the Hub's headers (LFS files answer
/// 302 to <c>/cdn/&lt;sha256&gt;</c>, regular files 200 with a git-SHA-1 ETag), repo info and a one-page tree.
/// Large bodies are a random block repeated, generated at start-up. An optional per-response delay
/// stands in for the network round trip that loopback does not have.
/// </summary>
internal sealed class LoopbackHubServer : IDisposable
{
    public const string Commit = "0b1e2c3d4e5f60718293a4b5c6d7e8f901234567";
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    // LFS bytes come from a second loopback address, as the Hub's come from a CDN host.
    private readonly TcpListener _cdnListener = new(IPAddress.Parse("127.0.0.2"), 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, ServedFile> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServedFile> _bySha = new(StringComparer.Ordinal);

    public LoopbackHubServer()
    {
        _listener.Start(512);
        _cdnListener.Start(64);
        Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        CdnEndpoint = new Uri($"http://127.0.0.2:{((IPEndPoint)_cdnListener.LocalEndpoint).Port}/");
        _ = AcceptAsync(_listener);
        _ = AcceptAsync(_cdnListener);
    }

    public Uri Endpoint { get; }

    /// <summary>The "CDN" origin LFS downloads are redirected to.</summary>
    public Uri CdnEndpoint { get; }

    /// <summary>Delay before each response (simulated round trip).</summary>
    public TimeSpan Latency { get; set; }

    public string RepoId => "bench/repo";

    /// <summary>Adds an LFS file of <paramref name="length"/> bytes made of one random block repeated.</summary>
    public string AddLfsFile(string path, long length, int blockSize = 16 << 20)
    {
        var block = new byte[Math.Min(blockSize, length)];
        new Random(42).NextBytes(block);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long done = 0; done < length; done += block.Length) sha.AppendData(block, 0, (int)Math.Min(block.Length, length - done));
        var file = new ServedFile(path, block, length, Convert.ToHexStringLower(sha.GetHashAndReset()), Lfs: true);
        _files[path] = file;
        _bySha[file.Etag] = file;
        return file.Etag;
    }

    /// <summary>Adds a small regular (git) file.</summary>
    public void AddRegularFile(string path, byte[] content)
    {
        var header = Encoding.ASCII.GetBytes($"blob {content.Length}\0");
        var etag = Convert.ToHexStringLower(SHA1.HashData([.. header, .. content]));
        _files[path] = new ServedFile(path, content, content.Length, etag, Lfs: false);
    }

    /// <summary>The resolve URL of a file.</summary>
    public Uri ResolveUri(string path) => new(Endpoint, $"{RepoId}/resolve/main/{path}");

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }
            socket.NoDelay = true;
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                var length = 0;
                int end;
                while ((end = IndexOfHeaderEnd(buffer, length)) < 0)
                {
                    var read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, _stop.Token);
                    if (read == 0) return;
                    length += read;
                }
                var lines = Encoding.ASCII.GetString(buffer, 0, end).Split("\r\n");
                var parts = lines[0].Split(' ');
                long? rangeFrom = null;
                foreach (var line in lines.Skip(1))
                {
                    if (line.StartsWith("Range: bytes=", StringComparison.OrdinalIgnoreCase) && line.EndsWith('-'))
                    {
                        rangeFrom = long.Parse(line["Range: bytes=".Length..^1], CultureInfo.InvariantCulture);
                    }
                }
                if (Latency > TimeSpan.Zero) await Task.Delay(Latency);
                await RespondAsync(socket, parts[0], Uri.UnescapeDataString(parts[1].Split('?')[0]), rangeFrom);
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Client closed the connection.
        }
        finally
        {
            socket.Dispose();
        }
    }

    private static int IndexOfHeaderEnd(byte[] buffer, int length)
    {
        var index = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
        return index;
    }

    private async Task RespondAsync(Socket socket, string method, string path, long? rangeFrom)
    {
        var resolvePrefix = $"/{RepoId}/resolve/";
        if (path.StartsWith(resolvePrefix, StringComparison.Ordinal))
        {
            var filePath = path[resolvePrefix.Length..];
            filePath = filePath[(filePath.IndexOf('/') + 1)..];
            if (!_files.TryGetValue(filePath, out var file))
            {
                await SendAsync(socket, 404, [("X-Error-Code", "EntryNotFound"), ("X-Repo-Commit", Commit)], null, 0, 0);
                return;
            }
            if (file.Lfs)
            {
                await SendAsync(socket, 302, [("Location", new Uri(CdnEndpoint, $"cdn/{file.Etag}").ToString()), ("X-Linked-Etag", $"\"{file.Etag}\""), ("X-Linked-Size", file.Length.ToString(CultureInfo.InvariantCulture)), ("X-Repo-Commit", Commit)], null, 0, 0);
                return;
            }
            await SendAsync(socket, 200, [("ETag", $"\"{file.Etag}\""), ("X-Repo-Commit", Commit)], method == "HEAD" ? null : file, 0, file.Length, headOnly: method == "HEAD");
            return;
        }
        if (path.StartsWith("/cdn/", StringComparison.Ordinal) && _bySha.TryGetValue(path["/cdn/".Length..], out var blob))
        {
            var from = rangeFrom ?? 0;
            var headers = rangeFrom is null ? new List<(string, string)>() : [("Content-Range", $"bytes {from}-{blob.Length - 1}/{blob.Length}")];
            await SendAsync(socket, rangeFrom is null ? 200 : 206, headers, blob, from, blob.Length - from);
            return;
        }
        if (path == $"/api/models/{RepoId}/revision/main")
        {
            await SendJsonAsync(socket, new { id = RepoId, sha = Commit });
            return;
        }
        if (path.StartsWith($"/api/models/{RepoId}/tree/", StringComparison.Ordinal))
        {
            await SendJsonAsync(socket, _files.Values.Select(f => new { type = "file", oid = f.Etag, size = f.Length, path = f.Path }));
            return;
        }
        await SendAsync(socket, 404, [], null, 0, 0);
    }

    private Task SendJsonAsync(Socket socket, object body)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        return SendAsync(socket, 200, [("Content-Type", "application/json")], new ServedFile("", bytes, bytes.Length, "", false), 0, bytes.Length);
    }

    private static async Task SendAsync(Socket socket, int status, List<(string Name, string Value)> headers, ServedFile? body, long from, long count, bool headOnly = false)
    {
        var head = new StringBuilder($"HTTP/1.1 {status} {(HttpStatusCode)status}\r\n");
        foreach (var (name, value) in headers) head.Append($"{name}: {value}\r\n");
        head.Append($"Content-Length: {(body is null && !headOnly ? 0 : count)}\r\n\r\n");
        await socket.SendAsync(Encoding.ASCII.GetBytes(head.ToString()), SocketFlags.None);
        if (body is null || headOnly) return;
        var blockLength = body.Block.Length;
        var position = from;
        var end = from + count;
        while (position < end)
        {
            var offset = (int)(position % blockLength);
            var chunk = (int)Math.Min(blockLength - offset, end - position);
            await socket.SendAsync(body.Block.AsMemory(offset, chunk), SocketFlags.None);
            position += chunk;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _cdnListener.Stop();
    }

    private sealed record ServedFile(string Path, byte[] Block, long Length, string Etag, bool Lfs);
}
