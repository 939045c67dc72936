using System.Diagnostics;
using System.Globalization;
using Adapters.Testing;
using Adapters.Testing.Fuzz;

namespace Adapters.Bench.Fuzz;

/// <summary>
/// The long fuzz run: <c>dotnet run -c Release --project bench/Adapters.Bench -- fuzz --cases N [--seed S]
/// [--batch B] [--timeout-s T]</c>. Cases run in child processes, a batch at a time, so that a crash (even a stack
/// overflow, which no handler can catch) or a hang costs only its own case: the parent watches each case's start and
/// end lines, kills a child that stays silent for T seconds (a hang), counts a child that dies mid-case (a crash),
/// and resumes after it. Each case also reports the bytes it allocated; more than 256 MiB counts as memory.
/// Prints typed / parsed / crash / hang / memory counts and exits 1 unless the last three are 0.
/// </summary>
public static class FuzzMode
{
    public const string Mode = "fuzz";
    public const string WorkerMode = "fuzz-worker";
    private const long MemoryLimit = 256L << 20;

    public static async Task<int> RunAsync(string[] args)
    {
        var cases = Option(args, "--cases", 10_000);
        var seed = (int)Option(args, "--seed", 16);
        var batch = Option(args, "--batch", 500);
        var timeout = TimeSpan.FromSeconds(Option(args, "--timeout-s", 10));
        var counts = new Dictionary<string, long>(StringComparer.Ordinal) { ["parsed"] = 0, ["typed"] = 0, ["crash"] = 0, ["hang"] = 0, ["memory"] = 0 };
        long maxAllocated = 0;
        long maxPeakRss = 0;
        var stopwatch = Stopwatch.StartNew();
        for (var next = 0L; next < cases;)
        {
            var to = Math.Min(cases, next + batch);
            var (resumeAt, peakRss) = await RunBatchAsync(seed, next, to, timeout, counts, allocated => maxAllocated = Math.Max(maxAllocated, allocated));
            maxPeakRss = Math.Max(maxPeakRss, peakRss);
            next = resumeAt;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fuzz: {cases} cases, seed {seed}, {stopwatch.Elapsed.TotalSeconds:F0} s: typed {counts["typed"]}, parsed {counts["parsed"]}, crash {counts["crash"]}, hang {counts["hang"]}, memory {counts["memory"]} (largest allocation by one case {maxAllocated / (double)(1 << 20):F1} MiB, worker peak RSS {maxPeakRss / (1 << 20)} MiB)"));
        return counts["crash"] + counts["hang"] + counts["memory"] == 0 ? 0 : 1;
    }

    /// <summary>Runs cases [from, to) in one child; returns where the next child should start and the child's peak RSS.</summary>
    private static async Task<(long ResumeAt, long PeakRss)> RunBatchAsync(int seed, long from, long to, TimeSpan timeout,
        Dictionary<string, long> counts, Action<long> allocated)
    {
        using var child = StartWorker(seed, from, to);
        long? running = null;
        long peakRss = 0;
        while (true)
        {
            var read = child.StandardOutput.ReadLineAsync();
            var finished = await Task.WhenAny(read, Task.Delay(timeout));
            if (finished != read)
            {
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync();
                var hung = running ?? from;
                counts["hang"]++;
                Console.WriteLine($"hang: case {hung} (no progress for {timeout.TotalSeconds} s)");
                return (hung + 1, peakRss);
            }
            var line = await read;
            if (line is null)
            {
                await child.WaitForExitAsync();
                if (running is long crashed)
                {
                    counts["crash"]++;
                    var stderr = (await child.StandardError.ReadToEndAsync()).Trim();
                    Console.WriteLine($"crash: case {crashed} ended the worker (exit {child.ExitCode}): {stderr[..Math.Min(300, stderr.Length)]}");
                    return (crashed + 1, peakRss);
                }
                return (to, peakRss);
            }
            var parts = line.Split(' ');
            switch (parts[0])
            {
                case "start":
                    running = long.Parse(parts[1], CultureInfo.InvariantCulture);
                    break;
                case "done":
                    {
                        running = null;
                        var outcome = parts[2];
                        var bytes = long.Parse(parts[3], CultureInfo.InvariantCulture);
                        peakRss = Math.Max(peakRss, long.Parse(parts[4], CultureInfo.InvariantCulture));
                        allocated(bytes);
                        counts[outcome]++;
                        if (bytes > MemoryLimit)
                        {
                            counts["memory"]++;
                            Console.WriteLine($"memory: case {parts[1]} allocated {bytes} bytes");
                        }
                        if (outcome == "crash") Console.WriteLine("crash: case " + parts[1] + " " + string.Join(' ', parts[5..]));
                        break;
                    }
            }
        }
    }

    private static Process StartWorker(int seed, long from, long to)
    {
        var start = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Under `dotnet bench.dll` the host is dotnet and the assembly comes first.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(FuzzMode).Assembly.Location);
        foreach (var arg in new[] { WorkerMode, seed.ToString(CultureInfo.InvariantCulture), from.ToString(CultureInfo.InvariantCulture), to.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }
        return Process.Start(start)!;
    }

    /// <summary>The child: runs cases [from, to) and prints a start and a done line for each.</summary>
    public static int RunWorker(string[] args)
    {
        var seed = int.Parse(args[0], CultureInfo.InvariantCulture);
        var from = long.Parse(args[1], CultureInfo.InvariantCulture);
        var to = long.Parse(args[2], CultureInfo.InvariantCulture);
        using var fuzz = new ParserFuzz(TestPaths.Fixture());
        for (var i = from; i < to; i++)
        {
            var fuzzCase = fuzz.Case(seed, i);
            Console.Out.WriteLine($"start {i}");
            Console.Out.Flush();
            var before = GC.GetTotalAllocatedBytes(precise: false);
            string outcome;
            var detail = "";
            try
            {
                outcome = fuzz.Run(fuzzCase) ? "parsed" : "typed";
            }
            catch (Exception ex)
            {
                outcome = "crash";
                detail = $"({fuzzCase.Seed.Name}) {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}";
            }
            var allocated = GC.GetTotalAllocatedBytes(precise: false) - before;
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done {i} {outcome} {allocated} {PeakRss()} {detail}"));
            Console.Out.Flush();
        }
        return 0;
    }

    private static long PeakRss()
    {
        // VmHWM: the most resident memory this process has had (Linux); 0 where /proc is absent.
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return 0;
        foreach (var line in File.ReadLines(status))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }

    private static long Option(string[] args, string name, long fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? long.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
