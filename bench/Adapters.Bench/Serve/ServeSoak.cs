using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Adapters.Hub;
using Adapters.Registry;
using Adapters.Registry.Auth;
using Adapters.Hub.Upload;

namespace Adapters.Bench.Serve;

/// <summary>
/// The hostile-load soak of issue 16: <c>dotnet run -c Release --project bench/Adapters.Bench -- serve-soak
/// [--bodies 1000] [--yaml 200] [--loris 300] [--downloads 200] [--download-mib 16]</c>. The registry runs in
/// a child process (this program in <c>serve-soak-host</c> mode) so its resident memory is measured alone,
/// from <c>/proc/PID/status</c>, while it takes: unauthenticated 400 MiB bodies (streamed until refused),
/// 50,000-deep YAML posts to <c>validate-yaml</c>, slow-loris connections, and concurrent downloads; then it
/// is restarted and every repository must pull again. Prints one line per phase and the peak RSS (goal &lt; 300 MB).
/// </summary>
public static class ServeSoak
{
    public const string Mode = "serve-soak";
    public const string HostMode = "serve-soak-host";
    private const string Token = "hf_soak_writer";
    private const long FourHundredMiB = 400L * 1024 * 1024;

    public static async Task<int> RunAsync(string[] args)
    {
        var bodies = Option(args, "--bodies", 1000);
        var yamlPosts = Option(args, "--yaml", 200);
        var loris = Option(args, "--loris", 300);
        var downloads = Option(args, "--downloads", 200);
        var downloadMiB = Option(args, "--download-mib", 16);
        var scratch = Directory.CreateTempSubdirectory("adapters-serve-soak-");
        var root = Path.Combine(scratch.FullName, "registry");
        try
        {
            await using var server = await ServerProcess.StartAsync(root);
            var endpoint = server.Endpoint;
            Console.WriteLine($"serve-soak: registry pid {server.Pid} at {endpoint}, RSS after start {server.RssMiB():F0} MiB");

            var payload = RandomNumberGenerator.GetBytes(downloadMiB << 20);
            using (var client = NewClient(endpoint, scratch))
            {
                await client.Repositories.CreateRepoAsync("soak/model", isPrivate: true);
                await client.Commits.CreateCommitAsync("soak/model", [CommitOperation.AddBytes("weights.bin", payload), CommitOperation.AddBytes("README.md", "---\nlicense: mit\n---\n"u8.ToArray())], "Weights");
                if (yamlPosts > 0)
                {
                    await client.Repositories.CreateRepoAsync("soak/deep-card");
                    await client.Commits.CreateCommitAsync("soak/deep-card", [CommitOperation.AddBytes("README.md", Encoding.UTF8.GetBytes(DeepYaml(50_000)))], "A hostile card");
                }
            }
            Console.WriteLine($"serve-soak: setup done, RSS {server.RssMiB():F0} MiB");

            await Phase(server, $"{bodies} unauthenticated 400 MiB bodies", async () =>
            {
                var refused = 0;
                await Parallel.ForEachAsync(Enumerable.Range(0, bodies), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
                {
                    var route = (i % 4) switch
                    {
                        0 => "/api/models/soak/model/commit/main",
                        1 => "/api/models/soak/model/preupload/main",
                        2 => "/soak/model.git/info/lfs/objects/batch",
                        _ => "/api/validate-yaml",
                    };
                    var status = await RawPostAsync(endpoint, route, chunked: i % 8 == 3, FourHundredMiB);
                    if (status is 401 or 413) Interlocked.Increment(ref refused);
                });
                return $"{refused}/{bodies} refused (401 before reading, 413 past the cap)";
            });

            await Phase(server, $"{yamlPosts} deep-YAML posts", async () =>
            {
                using var http = new HttpClient();
                var body = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { content = DeepYaml(50_000), repoType = "model" }));
                var rejected = 0;
                await Parallel.ForEachAsync(Enumerable.Range(0, yamlPosts), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) =>
                {
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    using var response = await http.PostAsync(new Uri(endpoint, "api/validate-yaml"), content);
                    if ((int)response.StatusCode == 400) Interlocked.Increment(ref rejected);
                });
                using var info = await http.GetAsync(new Uri(endpoint, "api/models/soak/deep-card"));
                return $"{rejected}/{yamlPosts} answered 400; info of a repo with a deep README: {(int)info.StatusCode}";
            });

            await Phase(server, $"{loris} slow-loris clients", async () =>
            {
                var clock = Stopwatch.StartNew();
                var closed = 0;
                await Task.WhenAll(Enumerable.Range(0, loris).Select(async _ =>
                {
                    if (await SlowLorisAsync(endpoint, TimeSpan.FromSeconds(40))) Interlocked.Increment(ref closed);
                }));
                return $"{closed}/{loris} cut off by the server within {clock.Elapsed.TotalSeconds:F0} s";
            });

            await Phase(server, $"{downloads} concurrent downloads of {downloadMiB} MiB", async () =>
            {
                using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = downloads }) { Timeout = TimeSpan.FromMinutes(5) };
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
                var complete = 0;
                var clock = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, downloads).Select(async _ =>
                {
                    using var response = await http.GetAsync(new Uri(endpoint, "soak/model/resolve/main/weights.bin"), HttpCompletionOption.ResponseHeadersRead);
                    await using var stream = await response.Content.ReadAsStreamAsync();
                    var buffer = new byte[1 << 16];
                    long total = 0;
                    int read;
                    while ((read = await stream.ReadAsync(buffer)) > 0) total += read;
                    if (response.IsSuccessStatusCode && total == payload.Length) Interlocked.Increment(ref complete);
                }));
                return $"{complete}/{downloads} complete in {clock.Elapsed.TotalSeconds:F1} s";
            });

            var peak = server.PeakRssMiB();
            await server.StopAsync();
            await using var restarted = await ServerProcess.StartAsync(root);
            using (var client = NewClient(restarted.Endpoint, scratch))
            {
                var pulled = new List<string>();
                foreach (var repo in yamlPosts > 0 ? ["soak/model", "soak/deep-card"] : new[] { "soak/model" })
                {
                    var snapshot = await client.Files.SnapshotDownloadAsync(repo);
                    pulled.Add($"{repo} ({snapshot.Files.Count} files)");
                }
                Console.WriteLine($"serve-soak: after a restart every repository pulls: {string.Join(", ", pulled)}");
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"serve-soak: peak RSS of the registry {peak:F0} MiB (VmHWM; goal < 300 MB = {300_000_000 / 1048576.0:F0} MiB)"));
            return 0;
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>The child process: a registry with one write token, its endpoint on the first line, until standard input closes.</summary>
    public static async Task<int> HostAsync(string[] args)
    {
        await using var server = await RegistryServer.StartAsync(new RegistryServerOptions
        {
            RootDirectory = args[0],
            Tokens = [AccessToken.Parse("write:" + Token, 0)],
        });
        Console.WriteLine(server.Endpoint);
        await Console.In.ReadToEndAsync();
        return 0;
    }

    private static async Task Phase(ServerProcess server, string name, Func<Task<string>> run)
    {
        var clock = Stopwatch.StartNew();
        using var sampling = new CancellationTokenSource();
        double peak = 0;
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, server.RssMiB());
                try
                {
                    await Task.Delay(100, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        var outcome = await run();
        await sampling.CancelAsync();
        await sampler;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"serve-soak: {name}: {outcome}; {clock.Elapsed.TotalSeconds:F1} s; registry RSS peak {peak:F0} MiB, now {server.RssMiB():F0} MiB"));
    }

    /// <summary>Announces (or streams chunked) a 400 MiB body without a token and sends until the server answers; returns the status.</summary>
    private static async Task<int> RawPostAsync(Uri endpoint, string path, bool chunked, long length)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint.Host, endpoint.Port);
        var stream = tcp.GetStream();
        var framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {length}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: {endpoint.Authority}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"));
        var chunk = new byte[256 * 1024];
        Array.Fill(chunk, (byte)'[');
        var chunkHeader = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
        var sender = Task.Run(async () =>
        {
            try
            {
                for (long sent = 0; sent < length; sent += chunk.Length)
                {
                    if (chunked) await stream.WriteAsync(chunkHeader);
                    await stream.WriteAsync(chunk);
                    if (chunked) await stream.WriteAsync("\r\n"u8.ToArray());
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // Refused: the server hung up while the body was still coming.
            }
        });
        var answer = new byte[16];
        var got = 0;
        try
        {
            while (got < 12)
            {
                var read = await stream.ReadAsync(answer.AsMemory(got));
                if (read == 0) break;
                got += read;
            }
        }
        catch (IOException)
        {
        }
        tcp.Close();
        await sender;
        return got >= 12 ? int.Parse(Encoding.ASCII.GetString(answer, 9, 3), CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>Sends a header line every 2 s forever; true when the server closes the connection first.</summary>
    private static async Task<bool> SlowLorisAsync(Uri endpoint, TimeSpan limit)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint.Host, endpoint.Port);
        var stream = tcp.GetStream();
        var clock = Stopwatch.StartNew();
        var buffer = new byte[1024];
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /api/models/soak/model HTTP/1.1\r\nHost: {endpoint.Authority}\r\n"));
            while (clock.Elapsed < limit)
            {
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    if (await stream.ReadAsync(buffer, wait.Token) == 0) return true;
                }
                catch (OperationCanceledException)
                {
                    await stream.WriteAsync("X-Slow: 1\r\n"u8.ToArray());
                }
            }
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static string DeepYaml(int depth) => "---\nx: " + new string('[', depth) + new string(']', depth) + "\n---\n# card\n";

    private static HubClient NewClient(Uri endpoint, DirectoryInfo scratch) => new(new HubClientOptions
    {
        Endpoint = endpoint,
        Token = Token,
        CacheDirectory = scratch.CreateSubdirectory("cache-" + Guid.NewGuid().ToString("N")).FullName,
    });

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>The registry in a child process of this program, and its memory as the kernel reports it.</summary>
    private sealed class ServerProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private ServerProcess(Process process, Uri endpoint)
        {
            _process = process;
            Endpoint = endpoint;
        }

        public Uri Endpoint { get; }

        public int Pid => _process.Id;

        public static async Task<ServerProcess> StartAsync(string root)
        {
            var self = Environment.ProcessPath ?? throw new InvalidOperationException("The bench's own executable is unknown.");
            var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(ServeSoak).Assembly.Location);
            start.ArgumentList.Add(HostMode);
            start.ArgumentList.Add(root);
            var process = Process.Start(start) ?? throw new InvalidOperationException("The registry process did not start.");
            var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("The registry process printed no endpoint.");
            return new ServerProcess(process, new Uri(line));
        }

        public double RssMiB() => Status("VmRSS:");

        public double PeakRssMiB() => Status("VmHWM:");

        private double Status(string field)
        {
            try
            {
                var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
                return line is null ? 0 : double.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
            }
            catch (IOException)
            {
                return 0;
            }
        }

        public async Task StopAsync()
        {
            if (_process.HasExited) return;
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            _process.Dispose();
        }
    }
}
