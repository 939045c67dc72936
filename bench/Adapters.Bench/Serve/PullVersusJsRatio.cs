using System.Diagnostics;
using System.Globalization;
using Adapters.Hub;
using Adapters.Registry;
using Adapters.Hub.Upload;

namespace Adapters.Bench.Serve;

/// <summary>
/// <c>dotnet run -c Release --project bench/Adapters.Bench -- ratio pull-vs-js [runs] [MiB]</c>: one large LFS
/// file in a temporary <c>adapters-hub serve</c> registry on loopback, downloaded alternately by the official
/// <c>@huggingface/hub</c> client (<c>node tests/interop/js-client.mjs download</c>: <c>downloadFile</c>, then the
/// file written to disk) and by our pull into a fresh cache (HEAD, GET, SHA-256 verification, blob + snapshot
/// entry), both in-process (<see cref="HubClient"/>) and as the <c>adapters-hub pull</c> process. Prints the
/// medians and the ratio JS time / our time (goal ≥ 1.5). Needs <c>npm ci --prefix tests/interop</c> first.
/// </summary>
public sealed class PullVersusJsRatio : IRatioRun
{
    private const string RepoId = "bench/pull-vs-js";
    private const string FileName = "weights.bin";

    /// <inheritdoc />
    public string Name => "pull-vs-js";

    /// <inheritdoc />
    public async Task RunAsync(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var mebibytes = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 512;
        var size = mebibytes << 20;
        var repoRoot = FindRepoRoot();
        var interop = Path.Combine(repoRoot, "tests", "interop");
        if (!File.Exists(Path.Combine(interop, "node_modules", "@huggingface", "hub", "package.json")))
        {
            throw new InvalidOperationException($"@huggingface/hub is not installed: run 'npm ci --prefix {interop}' first.");
        }
        var cli = Path.Combine(AppContext.BaseDirectory, "adapters-hub.dll");

        var scratch = Directory.CreateTempSubdirectory("adapters-bench-pull-vs-js-");
        try
        {
            var source = Path.Combine(scratch.FullName, FileName);
            await WriteRandomFileAsync(source, size);
            await using var registry = await RegistryServer.StartAsync(new RegistryServerOptions { RootDirectory = Path.Combine(scratch.FullName, "registry"), Port = 0 });
            var endpoint = registry.Endpoint.ToString().TrimEnd('/');
            using (var uploader = new HubClient(new HubClientOptions { Endpoint = registry.Endpoint, CacheDirectory = Path.Combine(scratch.FullName, "upload-cache") }))
            {
                await uploader.Repositories.CreateRepoAsync(RepoId);
                await uploader.Commits.CreateCommitAsync(RepoId, [CommitOperation.AddFile(FileName, source)], "Add a large file");
            }
            File.Delete(source);

            var js = new List<double>();
            var ours = new List<double>();
            var oursCli = new List<double>();
            for (var run = -1; run < runs; run++)
            {
                // Run -1 warms up every side (JIT, node's module cache, the OS page cache of the registry's blob).
                var jsSeconds = await TimeJsAsync(interop, endpoint, scratch.FullName, size);
                var oursSeconds = await TimeHubClientAsync(registry.Endpoint, scratch.FullName, size);
                var cliSeconds = File.Exists(cli) ? await TimeCliAsync(cli, endpoint, scratch.FullName, size) : double.NaN;
                if (run < 0) continue;
                js.Add(jsSeconds);
                ours.Add(oursSeconds);
                oursCli.Add(cliSeconds);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run + 1}: js {jsSeconds:F3} s, HubClient {oursSeconds:F3} s, adapters-hub pull {cliSeconds:F3} s"));
            }

            static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
            var (jsMedian, oursMedian, cliMedian) = (Median(js), Median(ours), Median(oursCli));
            const double MiB = 1 << 20;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pull-vs-js: {mebibytes} MiB x {runs} runs from serve over loopback (medians); " +
                $"@huggingface/hub downloadFile + write (node process) {jsMedian:F2} s ({size / MiB / jsMedian:F0} MiB/s); " +
                $"HubClient pull, verified, in-process {oursMedian:F2} s ({size / MiB / oursMedian:F0} MiB/s), ratio {jsMedian / oursMedian:F2}; " +
                $"adapters-hub pull process {cliMedian:F2} s, ratio {jsMedian / cliMedian:F2} (goal >= 1.5)"));
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    private static async Task<double> TimeHubClientAsync(Uri endpoint, string scratch, long size)
    {
        var cache = Path.Combine(scratch, "cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            var watch = Stopwatch.StartNew();
            using (var client = new HubClient(new HubClientOptions { Endpoint = endpoint, CacheDirectory = cache }))
            {
                var path = await client.Files.DownloadFileAsync(RepoId, FileName);
                watch.Stop();
                if (LengthOf(path) != size) throw new InvalidOperationException($"HubClient wrote {LengthOf(path)} bytes, expected {size}.");
            }
            return watch.Elapsed.TotalSeconds;
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    private static async Task<double> TimeCliAsync(string cli, string endpoint, string scratch, long size)
    {
        var cache = Path.Combine(scratch, "cli-cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            var seconds = await TimeProcessAsync("dotnet", [cli, "pull", RepoId, FileName, "--endpoint", endpoint, "--cache-dir", cache], null);
            var snapshot = Directory.EnumerateFiles(cache, FileName, SearchOption.AllDirectories).Single();
            if (LengthOf(snapshot) != size) throw new InvalidOperationException($"adapters-hub pull wrote {LengthOf(snapshot)} bytes, expected {size}.");
            return seconds;
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    private static async Task<double> TimeJsAsync(string interop, string endpoint, string scratch, long size)
    {
        var output = Path.Combine(scratch, "js-" + Guid.NewGuid().ToString("N"));
        try
        {
            // The open registry accepts any token; the script insists on one.
            var seconds = await TimeProcessAsync("node", ["js-client.mjs", "download", endpoint, "hf_bench", RepoId, output, FileName], interop);
            var written = new FileInfo(Path.Combine(output, FileName)).Length;
            if (written != size) throw new InvalidOperationException($"the JS client wrote {written} bytes, expected {size}.");
            return seconds;
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    private static async Task<double> TimeProcessAsync(string fileName, string[] arguments, string? workingDirectory)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} could not be started.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        watch.Stop();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stderr}{await stdout}");
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>The length of the file a snapshot entry (a symlink into blobs/) points to.</summary>
    private static long LengthOf(string path)
    {
        using var handle = File.OpenHandle(path);
        return RandomAccess.GetLength(handle);
    }

    private static async Task WriteRandomFileAsync(string path, long size)
    {
        await using var file = File.Create(path);
        var block = new byte[4 << 20];
        Random.Shared.NextBytes(block);
        for (long written = 0; written < size; written += block.Length)
        {
            block[0]++;
            await file.WriteAsync(block.AsMemory(0, (int)Math.Min(block.Length, size - written)));
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Adapters.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No Adapters.sln above {AppContext.BaseDirectory}.");
    }
}
