using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Adapters.Hub;
using Adapters.Hub.Upload;
using Adapters.Registry;

namespace Adapters.Bench.Serve;

/// <summary>
/// The mirror mode's figures: <c>dotnet run -c Release --project bench/Adapters.Bench -- mirror-ratio [runs] [MiB] [clients]</c>.
/// An upstream registry holds one LFS file; a mirror stands in front of it. First <c>clients</c> curl processes ask
/// the mirror for the file at once (all first requests: the mirror holds nothing) and the upstream's own metrics
/// say how many times the blob was downloaded from it (goal: exactly 1). Then curl downloads of the mirrored file
/// from the mirror alternate with downloads of the same file from the upstream's local storage; the ratio of the
/// median throughputs is the "second pull runs at local speed" figure (goal ≥ 0.9).
/// </summary>
public static class MirrorRatio
{
    public const string Mode = "mirror-ratio";

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var mebibytes = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 256;
        var clients = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 16;
        var size = mebibytes << 20;
        var scratch = Directory.CreateTempSubdirectory("adapters-bench-mirror-");
        try
        {
            var source = Path.Combine(scratch.FullName, "weights.bin");
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
            await using var upstream = await RegistryServer.StartAsync(new RegistryServerOptions { RootDirectory = Path.Combine(scratch.FullName, "upstream") });
            using (var client = new HubClient(new HubClientOptions { Endpoint = upstream.Endpoint, CacheDirectory = Path.Combine(scratch.FullName, "cache") }))
            {
                await client.Repositories.CreateRepoAsync("bench/large");
                await client.Commits.CreateCommitAsync("bench/large", [CommitOperation.AddFile("weights.bin", source)], "Add a large file");
            }
            File.Delete(source);
            await using var mirror = await RegistryServer.StartAsync(new RegistryServerOptions
            {
                RootDirectory = Path.Combine(scratch.FullName, "mirror"),
                Mirror = new UpstreamMirrorOptions { Upstream = upstream.Endpoint },
            });
            var mirrorUrl = $"{mirror.Endpoint}bench/large/resolve/main/weights.bin";
            var localUrl = $"{upstream.Endpoint}bench/large/resolve/main/weights.bin";

            var started = Stopwatch.GetTimestamp();
            var first = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => CurlAsync(mirrorUrl, size)));
            var firstWall = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var upstreamBlobGets = await MetricAsync(upstream.Endpoint, "adapters_registry_requests_total\\{route=\"lfs-blobs\",method=\"GET\",status=\"200\"\\} (\\d+)");
            var mirrorBlobFetches = await MetricAsync(mirror.Endpoint, "adapters_registry_upstream_fetches_total\\{kind=\"blob\"\\} (\\d+)");

            await CurlAsync(localUrl, size);
            var local = new List<double>();
            var mirrored = new List<double>();
            for (var run = 0; run < runs; run++)
            {
                local.Add(size / await CurlAsync(localUrl, size));
                mirrored.Add(size / await CurlAsync(mirrorUrl, size));
            }
            static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
            const double MiB = 1 << 20;
            var ratio = Median(mirrored) / Median(local);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"mirror-ratio: {clients} concurrent first pulls of {mebibytes} MiB in {firstWall:F1} s (slowest curl {first.Max():F1} s): upstream served the blob {upstreamBlobGets} time(s), mirror counted {mirrorBlobFetches} upstream blob fetch(es) (goal 1)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"mirror-ratio: {mebibytes} MiB x {runs} runs, curl over loopback; local storage {Median(local) / MiB:F0} MiB/s, mirrored {Median(mirrored) / MiB:F0} MiB/s, ratio {ratio:F2} (goal >= 0.90)"));
            return upstreamBlobGets == 1 && mirrorBlobFetches == 1 ? 0 : 1;
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    private static async Task<long> MetricAsync(Uri endpoint, string pattern)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(endpoint, "/metrics"));
        var match = Regex.Match(text, pattern);
        return match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>Downloads <paramref name="url"/> with curl to /dev/null (following redirects); returns the seconds curl measured.</summary>
    private static async Task<double> CurlAsync(string url, long size)
    {
        var start = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-sS", "-f", "-L", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", url }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"curl {url} failed: {await process.StandardError.ReadToEndAsync()}");
        var parts = output.Split(' ');
        var downloaded = long.Parse(parts[0], CultureInfo.InvariantCulture);
        if (downloaded != size) throw new InvalidOperationException($"curl {url} received {downloaded} bytes, expected {size}.");
        return double.Parse(parts[1], CultureInfo.InvariantCulture);
    }
}
