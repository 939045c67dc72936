using System.Diagnostics;
using System.Globalization;
using Adapters.Hub.Xet;

namespace Adapters.Bench.Xet;

/// <summary>
/// <c>xet chunk-hash [--mib N]</c>: content-defined chunking and chunk hashing of N MiB (default 1024) of random
/// data on one thread, as an upload does it (<see cref="XetChunkHasher"/> fed 1 MiB blocks). Prints MB/s for chunk
/// boundaries alone, chunk hashes alone, and both, best of three runs.
/// </summary>
internal static class XetChunkHashMode
{
    public const string Mode = "chunk-hash";

    public static int Run(string[] args)
    {
        var mib = XetMode.IntOption(args, "--mib", 1024);
        var data = XetMode.RandomData((long)mib << 20, seed: 1);
        Console.WriteLine($"xet chunk-hash: {mib} MiB random data, one thread, {Environment.ProcessorCount} cores visible");

        var lengths = new List<int>();
        var chunking = Best(() =>
        {
            lengths.Clear();
            var chunker = new XetChunker();
            var rest = data.AsSpan();
            var open = 0;
            while (!rest.IsEmpty)
            {
                var cut = chunker.NextBoundary(rest);
                if (cut < 0) { open += rest.Length; break; }
                lengths.Add(open + cut);
                open = 0;
                rest = rest[cut..];
            }
            if (open > 0) lengths.Add(open);
        });
        // The loop as it was before the span/min-size rewrite (indexers, one combined condition per byte), for the ratio.
        var baselineCount = 0;
        var baseline = Best(() =>
        {
            baselineCount = 0;
            var table = GearHashTable();
            var rest = data.AsSpan();
            while (!rest.IsEmpty)
            {
                var cut = BaselineBoundary(rest, table);
                baselineCount++;
                if (cut < 0) break;
                rest = rest[cut..];
            }
        });
        var hashing = Best(() =>
        {
            var offset = 0;
            foreach (var length in lengths)
            {
                XetHashing.ChunkHash(data.AsSpan(offset, length));
                offset += length;
            }
        });
        var both = Best(() =>
        {
            var hasher = new XetChunkHasher();
            for (var offset = 0; offset < data.Length; offset += 1 << 20)
                hasher.Append(data.AsSpan(offset, Math.Min(1 << 20, data.Length - offset)));
            hasher.Complete();
        });
        Report("chunk boundaries (before)", data.Length, baseline);
        Report("chunk boundaries", data.Length, chunking);
        Report("chunk hashes (keyed BLAKE3)", data.Length, hashing);
        Report("chunking + hashing", data.Length, both);
        Console.WriteLine($"  {lengths.Count} chunks (before: {baselineCount}), mean {data.Length / Math.Max(1, lengths.Count)} bytes");
        return 0;
    }

    private static ulong[] GearHashTable() => Adapters.Hub.Xet.GearHashTable.Values.ToArray();

    private static int BaselineBoundary(ReadOnlySpan<byte> data, ulong[] table)
    {
        const int min = XetChunker.MinimumChunkSize, max = XetChunker.MaximumChunkSize;
        var index = Math.Min(min - 64 - 1, data.Length);
        var limit = Math.Min(data.Length, max);
        ulong hash = 0;
        for (; index < limit; index++)
        {
            hash = (hash << 1) + table[data[index]];
            if ((hash & XetChunker.BoundaryMask) == 0 && index + 1 >= min) return index + 1;
        }
        return limit >= max ? limit : -1;
    }

    /// <summary>Best of three: wall time, and the process's CPU time (on a shared machine the per-core figure).</summary>
    private static (TimeSpan Wall, TimeSpan Cpu) Best(Action run)
    {
        var best = (Wall: TimeSpan.MaxValue, Cpu: TimeSpan.MaxValue);
        using var process = Process.GetCurrentProcess();
        for (var i = 0; i < 3; i++)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            run();
            var wall = watch.Elapsed;
            process.Refresh();
            var used = process.TotalProcessorTime - cpu;
            if (wall < best.Wall) best.Wall = wall;
            if (used < best.Cpu) best.Cpu = used;
        }
        return best;
    }

    private static void Report(string what, long bytes, (TimeSpan Wall, TimeSpan Cpu) elapsed) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {what,-30} {bytes / elapsed.Wall.TotalSeconds / 1e6,8:F0} MB/s wall ({elapsed.Wall.TotalSeconds:F2} s), {bytes / elapsed.Cpu.TotalSeconds / 1e6,8:F0} MB/s per CPU-second ({elapsed.Cpu.TotalSeconds:F2} s)"));
}
