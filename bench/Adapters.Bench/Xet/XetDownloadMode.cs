using System.Diagnostics;
using System.Globalization;
using Adapters.Hub;
using Adapters.Hub.Upload;

namespace Adapters.Bench.Xet;

/// <summary>
/// <c>xet download [--mib N] [--rounds R]</c>: pushes an N MiB (default 1024) random file to an in-process
/// <c>adapters-hub serve</c> through Xet, then downloads it R times (default 5) through Xet reconstruction and through
/// the plain <c>/resolve</c> path, interleaved, each into a fresh cache, and prints both medians and their ratio
/// (issue 21's goal: Xet ≥ 0.9× plain). Both paths verify the file's SHA-256; the Xet path also every chunk hash.
/// </summary>
internal static class XetDownloadMode
{
    public const string Mode = "download";

    public static async Task<int> RunAsync(string[] args)
    {
        var mib = XetMode.IntOption(args, "--mib", 1024);
        var rounds = XetMode.IntOption(args, "--rounds", 5);
        var scratch = Directory.CreateTempSubdirectory("adapters-bench-xet-download-");
        try
        {
            var root = Path.Combine(scratch.FullName, "registry");
            await using var registry = await Adapters.Registry.RegistryServer.StartAsync(new Adapters.Registry.RegistryServerOptions { RootDirectory = root }).ConfigureAwait(false);
            var path = Path.Combine(scratch.FullName, "model.safetensors");
            await File.WriteAllBytesAsync(path, XetMode.RandomData((long)mib << 20, seed: 3)).ConfigureAwait(false);
            using (var uploader = Client(registry.Endpoint, Path.Combine(scratch.FullName, "upload-cache"), useXet: true))
            {
                await uploader.Repositories.CreateRepoAsync("bench/xet-download").ConfigureAwait(false);
                await uploader.Commits.CreateCommitAsync("bench/xet-download", [CommitOperation.AddFile("model.safetensors", path)], "add").ConfigureAwait(false);
            }
            File.Delete(path);
            Console.WriteLine($"xet download: {mib} MiB from serve, {rounds} interleaved rounds, CPU count {Environment.ProcessorCount}");

            var xet = new List<double>();
            var plain = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                plain.Add(await TimeAsync(registry.Endpoint, scratch.FullName, useXet: false, mib).ConfigureAwait(false));
                xet.Add(await TimeAsync(registry.Endpoint, scratch.FullName, useXet: true, mib).ConfigureAwait(false));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1}: plain {plain[^1]:F0} MiB/s, xet {xet[^1]:F0} MiB/s"));
            }
            var xetMedian = Median(xet);
            var plainMedian = Median(plain);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  median: plain /resolve {plainMedian:F0} MiB/s, xet reconstruction {xetMedian:F0} MiB/s, ratio {xetMedian / plainMedian:F2} (goal >= 0.90)"));
            return 0;
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    private static HubClient Client(Uri endpoint, string cache, bool useXet) =>
        new(new HubClientOptions { Endpoint = endpoint, CacheDirectory = cache, UseXet = useXet });

    /// <summary>One download into a fresh cache; MiB/s.</summary>
    private static async Task<double> TimeAsync(Uri endpoint, string scratch, bool useXet, int mib)
    {
        var cache = Path.Combine(scratch, "cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var client = Client(endpoint, cache, useXet);
            var watch = Stopwatch.StartNew();
            var file = await client.Files.DownloadFileAsync("bench/xet-download", "model.safetensors").ConfigureAwait(false);
            watch.Stop();
            // Snapshot entries are symbolic links into blobs/, as in Python's cache: measure what they point at.
            long length;
            using (var stream = File.OpenRead(file)) length = stream.Length;
            if (length != (long)mib << 20) throw new InvalidOperationException($"downloaded {file} has the wrong size");
            return mib / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
