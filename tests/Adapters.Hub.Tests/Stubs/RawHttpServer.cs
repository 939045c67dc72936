using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Adapters.Hub.Tests.Stubs;

/// <summary>A request as the raw server saw it.</summary>
internal sealed record RawRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>How the raw server misbehaves while sending a body.</summary>
internal enum BodyFault
{
    None,
    /// <summary>Send <c>FaultAfter</c> bytes, then reset the connection (RST).</summary>
    Reset,
    /// <summary>Send <c>FaultAfter</c> bytes, then close cleanly although Content-Length promised more.</summary>
    Truncate,
    /// <summary>Send <c>FaultAfter</c> bytes, then stall for <c>StallFor</c>, then close.</summary>
    Stall,
    /// <summary>Send <c>FaultAfter</c> bytes, pause for <c>StallFor</c>, then send the rest: slow but complete.</summary>
    Pause,
}

/// <summary>The answer the raw server sends.</summary>
internal sealed record RawResponse(int Status, byte[] Body, IReadOnlyDictionary<string, string>? Headers = null)
{
    public BodyFault Fault { get; init; }
    public long FaultAfter { get; init; }
    public TimeSpan StallFor { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// A tiny HTTP/1.1 server on loopback whose bodies can break off exactly where a test says: resets,
/// truncations and stalls that a higher-level stub cannot produce on purpose. Used as the "CDN" host.
/// </summary>
internal sealed class RawHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<RawRequest, RawResponse> _handler;
    private readonly CancellationTokenSource _stop = new();

    public RawHttpServer(Func<RawRequest, RawResponse> handler)
    {
        _handler = handler;
        _listener.Start();
        BaseUri = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _ = AcceptLoopAsync();
    }

    public Uri BaseUri { get; }

    public ConcurrentQueue<RawRequest> Requests { get; } = new();

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            while (!_stop.IsCancellationRequested)
            {
                var request = await ReadRequestAsync(stream);
                if (request is null) break;
                Requests.Enqueue(request);
                var response = _handler(request);
                var keepOpen = await WriteResponseAsync(socket, stream, request, response);
                if (!keepOpen) return;
            }
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away; nothing to serve.
        }
        finally
        {
            socket.Dispose();
        }
    }

    private static async Task<RawRequest?> ReadRequestAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            var read = await stream.ReadAsync(one);
            if (read == 0) return null;
            buffer.Add(one[0]);
            var n = buffer.Count;
            if (n >= 4 && buffer[n - 4] == '\r' && buffer[n - 3] == '\n' && buffer[n - 2] == '\r' && buffer[n - 1] == '\n') break;
        }
        var lines = Encoding.ASCII.GetString(buffer.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var parts = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        return new RawRequest(parts[0], parts[1], headers);
    }

    /// <returns>Whether the connection can serve another request.</returns>
    private async Task<bool> WriteResponseAsync(Socket socket, NetworkStream stream, RawRequest request, RawResponse response)
    {
        var head = new StringBuilder($"HTTP/1.1 {response.Status} {((HttpStatusCode)response.Status)}\r\n");
        var headers = new Dictionary<string, string>(response.Headers ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        headers.TryAdd("Content-Length", response.Body.Length.ToString(CultureInfo.InvariantCulture));
        foreach (var (name, value) in headers) head.Append($"{name}: {value}\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        if (request.Method == "HEAD") return true;

        var limit = response.Fault == BodyFault.None ? response.Body.Length : (int)Math.Min(response.FaultAfter, response.Body.Length);
        await stream.WriteAsync(response.Body.AsMemory(0, limit));
        await stream.FlushAsync();
        switch (response.Fault)
        {
            case BodyFault.None:
                return true;
            case BodyFault.Reset:
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
                return false;
            case BodyFault.Truncate:
                socket.Shutdown(SocketShutdown.Send);
                return false;
            case BodyFault.Pause:
                await Task.Delay(response.StallFor, _stop.Token);
                await stream.WriteAsync(response.Body.AsMemory(limit));
                await stream.FlushAsync();
                return true;
            case BodyFault.Stall:
                try
                {
                    await Task.Delay(response.StallFor, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
                return false;
            default:
                return false;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
