using System.Diagnostics;
using System.Globalization;
using System.Text;
using Adapters.Hub;
using Adapters.Hub.Upload;
using Adapters.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Adapters.Bench.Serve;

/// <summary>
/// The registry's load run of issue 18: <c>dotnet run -c Release --project bench/Adapters.Bench -- registry-load
/// [--postgres CONNECTION] [--s3-endpoint URL --s3-bucket NAME] [--pushes 50] [--downloads 200] [--mib 32] [--runs 3]</c>.
/// Without <c>--postgres</c> the metadata is SQLite and the blobs are on the file system. It makes
/// <c>--pushes</c> concurrent commits with our client (ten repositories, several writers on each branch), then
/// <c>--downloads</c> concurrent downloads of one <c>--mib</c> MiB LFS file through <c>/resolve/</c> (302 to the blob),
/// alternating with the same downloads of the same bytes from a plain Kestrel static-file server, and prints the
/// median aggregate throughputs and their ratio (goal ≥ 0.9 on the file system). With S3 the downloads go to a
/// second registry on the same database and bucket whose folder starts empty, so its first run fetches from S3.
/// Any failed push or download is counted and makes the exit code 1.
/// </summary>
public static class RegistryLoad
{
    public const string Mode = "registry-load";

    public static async Task<int> RunAsync(string[] args)
    {
        var pushes = Option(args, "--pushes", 50);
        var downloads = Option(args, "--downloads", 200);
        var mebibytes = Option(args, "--mib", 32);
        var runs = Option(args, "--runs", 3);
        var postgres = Text(args, "--postgres");
        var s3Endpoint = Text(args, "--s3-endpoint");
        var blobs = s3Endpoint is null ? null : new S3BlobStorageOptions
        {
            ServiceUrl = new Uri(s3Endpoint),
            Bucket = Text(args, "--s3-bucket") ?? throw new ArgumentException("--s3-endpoint needs --s3-bucket."),
            KeyPrefix = "load-" + Guid.NewGuid().ToString("N")[..8] + "/",
            AccessKey = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"),
            SecretKey = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"),
        };
        if (blobs is not null && postgres is null) throw new ArgumentException("--s3-endpoint needs --postgres (replicas share the metadata).");
        var backend = (postgres, blobs) switch
        {
            (null, _) => "SQLite + file system",
            (_, null) => "PostgreSQL + file system",
            _ => "PostgreSQL + S3",
        };

        var scratch = Directory.CreateTempSubdirectory("adapters-registry-load-");
        var failures = 0;
        try
        {
            RegistryServerOptions Options(string folder) => new()
            {
                RootDirectory = Path.Combine(scratch.FullName, folder),
                PostgresConnectionString = postgres,
                S3Blobs = blobs,
                MaxConcurrentConnections = 4096,
            };
            await using var registry = await RegistryServer.StartAsync(Options("registry"));
            Console.WriteLine($"registry-load: {backend}, metadata {registry.MetadataDescription}");

            // Pushes: every client its own cache and connection, several writers per branch (the server rebases a commit without a parent).
            var clock = Stopwatch.StartNew();
            using (var setup = NewClient(registry.Endpoint, scratch))
            {
                for (var repo = 0; repo < 10; repo++) await setup.Repositories.CreateRepoAsync($"load/repo-{repo}");
            }
            var pushErrors = new List<string>();
            await Task.WhenAll(Enumerable.Range(0, pushes).Select(async i =>
            {
                using var client = NewClient(registry.Endpoint, scratch);
                try
                {
                    var weights = new byte[256 * 1024];
                    Random.Shared.NextBytes(weights);
                    await client.Commits.CreateCommitAsync($"load/repo-{i % 10}",
                        [CommitOperation.AddBytes($"adapter-{i}/adapter_model.safetensors", weights), CommitOperation.AddBytes($"adapter-{i}/adapter_config.json", Encoding.UTF8.GetBytes($"{{\"r\": {i}}}"))],
                        $"Push {i}");
                }
                catch (Exception ex)
                {
                    lock (pushErrors) pushErrors.Add($"push {i}: {ex.GetType().Name}: {ex.Message}");
                }
            }));
            failures += pushErrors.Count;
            using (var check = NewClient(registry.Endpoint, scratch))
            {
                var files = 0;
                for (var repo = 0; repo < 10; repo++) files += (await check.Repositories.ModelInfoAsync($"load/repo-{repo}")).Siblings.Count(s => s.RelativeFileName.EndsWith(".safetensors", StringComparison.Ordinal));
                if (files != pushes - pushErrors.Count) { failures++; pushErrors.Add($"{files} adapters on the branches after {pushes - pushErrors.Count} successful pushes"); }
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"registry-load: {pushes} concurrent pushes to 10 branches, {pushErrors.Count} error(s), {clock.Elapsed.TotalSeconds:F1} s"));
            foreach (var error in pushErrors.Take(5)) Console.WriteLine("  " + error);

            // The download file, pushed once (LFS), and the same bytes behind a static-file server.
            var size = (long)mebibytes << 20;
            var source = Path.Combine(scratch.FullName, "static", "weights.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(source)!);
            await using (var file = File.Create(source))
            {
                var block = new byte[4 << 20];
                Random.Shared.NextBytes(block);
                for (long written = 0; written < size; written += block.Length)
                {
                    block[0]++;
                    await file.WriteAsync(block.AsMemory(0, (int)Math.Min(block.Length, size - written)));
                }
            }
            using (var client = NewClient(registry.Endpoint, scratch))
            {
                await client.Repositories.CreateRepoAsync("load/large");
                await client.Commits.CreateCommitAsync("load/large", [CommitOperation.AddFile("weights.bin", source)], "Add a large file");
            }
            // With S3, a second replica with an empty folder serves the downloads: its first run reads the blob from the bucket.
            await using var reader = blobs is null ? null : await RegistryServer.StartAsync(Options("replica"));
            var serving = reader ?? registry;
            await using var staticServer = await StaticServerAsync(Path.GetDirectoryName(source)!);

            var serveUrl = new Uri(serving.Endpoint, "load/large/resolve/main/weights.bin");
            var staticUrl = new Uri(staticServer.Endpoint, "weights.bin");
            var serveRates = new List<double>();
            var staticRates = new List<double>();
            for (var run = 0; run < runs; run++)
            {
                var (serveRate, serveFailed) = await DownloadAllAsync(serveUrl, downloads, size);
                var (staticRate, staticFailed) = await DownloadAllAsync(staticUrl, downloads, size);
                failures += serveFailed + staticFailed;
                serveRates.Add(serveRate);
                staticRates.Add(staticRate);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"registry-load: run {run + 1}: {downloads} x {mebibytes} MiB, registry {serveRate:F0} MiB/s ({serveFailed} failed), static Kestrel {staticRate:F0} MiB/s ({staticFailed} failed)"));
            }
            static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"registry-load: {backend}: median registry {Median(serveRates):F0} MiB/s, static {Median(staticRates):F0} MiB/s, ratio {Median(serveRates) / Median(staticRates):F2} (goal >= 0.90 on the file system); {failures} failure(s)"));
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
        return failures == 0 ? 0 : 1;
    }

    /// <summary>Starts <paramref name="count"/> downloads at once (redirects followed), reads each to the end; aggregate MiB/s and the number that failed or came up short.</summary>
    private static async Task<(double MiBPerSecond, int Failed)> DownloadAllAsync(Uri url, int count, long size)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = count, AllowAutoRedirect = true }) { Timeout = TimeSpan.FromMinutes(10) };
        var failed = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            try
            {
                using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
                await using var stream = await response.Content.ReadAsStreamAsync();
                var buffer = new byte[1 << 16];
                long total = 0;
                int read;
                while ((read = await stream.ReadAsync(buffer)) > 0) total += read;
                if (!response.IsSuccessStatusCode || total != size) Interlocked.Increment(ref failed);
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref failed);
            }
            catch (IOException)
            {
                Interlocked.Increment(ref failed);
            }
        }));
        return ((double)count * size / (1 << 20) / clock.Elapsed.TotalSeconds, failed);
    }

    private sealed class StaticServer(WebApplication app, Uri endpoint) : IAsyncDisposable
    {
        public Uri Endpoint { get; } = endpoint;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static async Task<StaticServer> StaticServerAsync(string folder)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = folder });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, 0);
            k.Limits.MaxConcurrentConnections = 4096;
        });
        var app = builder.Build();
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(folder), ServeUnknownFileTypes = true });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new StaticServer(app, new Uri(address + "/"));
    }

    private static HubClient NewClient(Uri endpoint, DirectoryInfo scratch) => new(new HubClientOptions
    {
        Endpoint = endpoint,
        CacheDirectory = scratch.CreateSubdirectory("cache-" + Guid.NewGuid().ToString("N")).FullName,
        Retry = new HubRetryOptions { MaxRetries = 0, AttemptTimeout = TimeSpan.FromSeconds(120) },
        ReadTimeout = TimeSpan.FromSeconds(120),
    });

    private static int Option(string[] args, string name, int fallback) =>
        Text(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static string? Text(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
