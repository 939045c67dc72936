using System.Diagnostics;
using System.Globalization;
using System.Text;
using Adapters.Hub;
using Adapters.Hub.Upload;
using Adapters.Hub.Xet;
using Adapters.Hub.Xet.Dedupe;
using Adapters.Hub.Xet.Shards;

namespace Adapters.Bench.Xet;

/// <summary>
/// <c>xet dedupe [--mib N]</c>: pushes an N MiB (default 1024) safetensors-like file of 100 equal tensors through
/// the client's Xet deduplicator, then pushes it again after rewriting one tensor (1 %) and after rewriting 10
/// tensors (10 %), and prints the bytes each push must send (new chunks' bytes and serialised xorb bytes) against
/// the file's size. The CAS is simulated in process: a dedupe query for a chunk of an earlier push is answered with
/// that push's xorbs, chunk hashes HMAC-keyed, as the Hub answers it; no HTTP is involved. With <c>--serve</c> the
/// same three pushes go over HTTP to an in-process <c>adapters-hub serve</c> through <see cref="HubClient"/>, and the
/// bytes POSTed to its CAS (xorbs, shards) and the growth of its storage folder are printed too.
/// </summary>
internal static class XetDedupeMode
{
    public const string Mode = "dedupe";
    private const int Tensors = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        var mib = XetMode.IntOption(args, "--mib", 1024);
        var file = SafetensorsLike((long)mib << 20, out var tensorOffsets, out var tensorLength);
        Console.WriteLine($"xet dedupe: {file.Length} bytes ({mib} MiB), {Tensors} tensors of {tensorLength} bytes");
        var cas = new SimulatedCas();

        var first = await PushAsync(file, cas).ConfigureAwait(false);
        Report("first push", file.Length, first);

        // 1 %: one tensor, contiguous, rewritten.
        Rewrite(file, tensorOffsets[Tensors / 2], tensorLength, seed: 7);
        var one = await PushAsync(file, cas).ConfigureAwait(false);
        Report("1 % rewritten (1 tensor)", file.Length, one);

        // 10 %: ten tensors spread over the file, rewritten.
        for (var t = 0; t < 10; t++) Rewrite(file, tensorOffsets[t * 10 + 3], tensorLength, seed: (ulong)(100 + t));
        var ten = await PushAsync(file, cas).ConfigureAwait(false);
        Report("10 % rewritten (10 tensors)", file.Length, ten);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  goals: 1 % case <= 2.00 % (got {Percent(one.XorbBytes, file.Length)}), 10 % case <= 12.00 % (got {Percent(ten.XorbBytes, file.Length)})"));
        if (args.Contains("--serve"))
        {
            file = SafetensorsLike((long)mib << 20, out tensorOffsets, out tensorLength);
            await ServeAsync(file, tensorOffsets, tensorLength).ConfigureAwait(false);
        }
        return 0;
    }

    /// <summary>The three pushes over HTTP to serve: CAS bytes sent and storage growth per push.</summary>
    private static async Task ServeAsync(byte[] file, long[] tensorOffsets, long tensorLength)
    {
        var scratch = Directory.CreateTempSubdirectory("adapters-bench-xet-");
        try
        {
            var root = Path.Combine(scratch.FullName, "registry");
            await using var registry = await Adapters.Registry.RegistryServer.StartAsync(new Adapters.Registry.RegistryServerOptions { RootDirectory = root }).ConfigureAwait(false);
            var counter = new CountingHandler(new SocketsHttpHandler { AllowAutoRedirect = false });
            using var client = new HubClient(new HubClientOptions
            {
                Endpoint = registry.Endpoint,
                CacheDirectory = Path.Combine(scratch.FullName, "cache"),
                HttpMessageHandler = counter,
            });
            await client.Repositories.CreateRepoAsync("bench/xet").ConfigureAwait(false);
            var path = Path.Combine(scratch.FullName, "model.safetensors");
            Console.WriteLine("  over HTTP to serve:");
            async Task Push(string what)
            {
                await File.WriteAllBytesAsync(path, file).ConfigureAwait(false);
                var before = (Xorbs: counter.Sent("/xet-cas/v1/xorbs/"), Shards: counter.Sent("/xet-cas/v1/shards"), All: counter.Sent(""), Storage: FolderBytes(root));
                var watch = Stopwatch.StartNew();
                await client.Commits.CreateCommitAsync("bench/xet", [CommitOperation.AddFile("model.safetensors", path)], what).ConfigureAwait(false);
                var xorbs = counter.Sent("/xet-cas/v1/xorbs/") - before.Xorbs;
                var shards = counter.Sent("/xet-cas/v1/shards") - before.Shards;
                var all = counter.Sent("") - before.All;
                var growth = FolderBytes(root) - before.Storage;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {what,-28} POSTed xorbs {xorbs,12} B ({Percent(xorbs, file.Length)}), shard {shards} B, all request bodies {all} B ({Percent(all, file.Length)}), storage +{growth} B ({Percent(growth, file.Length)}), {watch.Elapsed.TotalSeconds:F1} s"));
            }
            await Push("first push").ConfigureAwait(false);
            Rewrite(file, tensorOffsets[Tensors / 2], tensorLength, seed: 7);
            await Push("1 % rewritten (1 tensor)").ConfigureAwait(false);
            for (var t = 0; t < 10; t++) Rewrite(file, tensorOffsets[t * 10 + 3], tensorLength, seed: (ulong)(100 + t));
            await Push("10 % rewritten (10 tensors)").ConfigureAwait(false);
            if (counter.Sent("/xet-cas/v1/xorbs/") == 0) Console.WriteLine("  (serve did not take the Xet path: no xorbs were POSTed)");
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    private static long FolderBytes(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;

    /// <summary>Counts request body bytes by path.</summary>
    private sealed class CountingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _sent = new();

        public long Sent(string pathPrefix) => _sent.Where(kv => kv.Key.StartsWith(pathPrefix, StringComparison.Ordinal)).Sum(kv => kv.Value);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content?.Headers.ContentLength is { } length)
            {
                var path = request.RequestUri!.AbsolutePath;
                var key = path.StartsWith("/xet-cas/v1/xorbs/", StringComparison.Ordinal) ? "/xet-cas/v1/xorbs/" : path;
                _sent.AddOrUpdate(key, length, (_, total) => total + length);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }

    private static async Task<XetDedupeStats> PushAsync(byte[] file, SimulatedCas cas)
    {
        var watch = Stopwatch.StartNew();
        var dedupe = new XetDeduplicator(new XetChunkIndex(), cas.QueryAsync, (_, _) => Task.CompletedTask);
        var entry = await dedupe.AddFileAsync(() => new MemoryStream(file, writable: false), null, null, CancellationToken.None).ConfigureAwait(false);
        cas.Record(new XetShard([entry], dedupe.NewXorbs));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ({watch.Elapsed.TotalSeconds:F1} s, {entry.Segments.Count} terms)"));
        return dedupe.Stats;
    }

    private static void Report(string what, long size, XetDedupeStats stats) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {what,-28} new chunks {stats.NewChunkBytes,12} B ({Percent(stats.NewChunkBytes, size)}), xorbs {stats.XorbBytes,12} B ({Percent(stats.XorbBytes, size)}), {stats.NewChunks}/{stats.Chunks} chunks new, {stats.Queries} queries"));

    private static string Percent(long part, long whole) => (100.0 * part / whole).ToString("F2", CultureInfo.InvariantCulture) + " %";

    private static void Rewrite(byte[] file, long offset, long length, ulong seed) =>
        XetMode.RandomData(length, seed).CopyTo(file.AsSpan((int)offset, (int)length));

    /// <summary>An 8-byte header length, a JSON header naming the tensors, then the tensors' random bytes.</summary>
    private static byte[] SafetensorsLike(long size, out long[] offsets, out long tensorLength)
    {
        var header = new StringBuilder("{");
        var each = (size - 64 * 1024) / Tensors / 4 * 4;
        tensorLength = each;
        for (var t = 0; t < Tensors; t++)
        {
            header.Append(CultureInfo.InvariantCulture, $"\"layers.{t}.weight\":{{\"dtype\":\"F32\",\"shape\":[{each / 4}],\"data_offsets\":[{t * each},{(t + 1) * each}]}},");
        }
        header.Length--;
        header.Append('}');
        var json = Encoding.UTF8.GetBytes(header.ToString().PadRight((int)(size - Tensors * each - 8)));
        var file = XetMode.RandomData(size, seed: 1);
        BitConverter.GetBytes((long)json.Length).CopyTo(file, 0);
        json.CopyTo(file, 8);
        offsets = Enumerable.Range(0, Tensors).Select(t => 8 + json.Length + t * each).ToArray();
        return file;
    }

    /// <summary>The CAS's dedupe side: shards recorded by pushes, answered HMAC-keyed for a chunk they hold.</summary>
    private sealed class SimulatedCas
    {
        private static readonly XetHash Key = XetHashing.ChunkHash("bench hmac key"u8);
        private readonly List<(XetShard Shard, HashSet<XetHash> Chunks)> _shards = [];

        public void Record(XetShard shard) =>
            _shards.Add((shard, shard.Xorbs.SelectMany(x => x.Chunks.Select(c => c.Hash)).ToHashSet()));

        public Task<XetShard?> QueryAsync(XetHash chunk, CancellationToken cancellationToken)
        {
            var owner = _shards.FirstOrDefault(s => s.Chunks.Contains(chunk)).Shard;
            return Task.FromResult(owner is null ? null : new XetShard([], owner.Xorbs.Select(x => x with
            {
                Chunks = x.Chunks.Select(c => c with { Hash = XetHashing.KeyedChunkHash(c.Hash, Key) }).ToList(),
            }).ToList()) { HmacKey = Key });
        }
    }
}
