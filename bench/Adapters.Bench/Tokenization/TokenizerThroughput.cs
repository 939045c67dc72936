using System.Diagnostics;
using System.Globalization;
using System.Text;
using Adapters.Testing;
using Tokenizers.DotNet;

namespace Adapters.Bench.Tokenization;

/// <summary>
/// <c>-- tokenizer-throughput [--megabytes N] [--tokenizer PATH]</c>: encodes N MB (default 4) of mixed text —
/// English prose, numbers, punctuation, code, accented and CJK text, one ~1 KB document per call, as a dataset
/// map would — with each tokenizer.json fixture (or the given file) on one thread, and prints MB of UTF-8 input per
/// second of wall time and per second of this process's CPU time (the per-core figure; the issue asks ≥ 1 MB/s).
/// </summary>
public static class TokenizerThroughput
{
    /// <summary>The mode's first argument.</summary>
    public const string Mode = "tokenizer-throughput";

    private static readonly string[] s_snippets =
    [
        "The quick brown fox jumps over the lazy dog, and the adapters library adds small modules to frozen models. ",
        "In 2024 the model had 123 layers, 4096 hidden units and 128256 tokens; it ran at 12345.67 tokens per second. ",
        "def forward(self, x):\n    return self.up(torch.relu(self.down(x))) + x  # residual\n",
        "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e na\u00efve \u00fcber Stra\u00dfe, \u00bfqu\u00e9 tal? ",
        "\u4eca\u65e5\u306f\u3044\u3044\u5929\u6c17\u3067\u3059\u3002\u6a21\u578b\u5fae\u8c03\u5f88\u6709\u7528\u3002 ",
        "I'm sure they're right: we've seen it, you'll see it.\n\n",
    ];

    /// <summary>Runs the measurement.</summary>
    public static int Run(string[] args)
    {
        var megabytes = 4.0;
        var paths = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--megabytes" when i + 1 < args.Length:
                    megabytes = double.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--tokenizer" when i + 1 < args.Length:
                    paths.Add(args[++i]);
                    break;
                default:
                    Console.Error.WriteLine($"usage: {Mode} [--megabytes N] [--tokenizer PATH]");
                    return 2;
            }
        }
        if (paths.Count == 0)
        {
            paths.Add(TestPaths.Fixture("tokenizers", "llama3", "tokenizer.json"));
            paths.Add(TestPaths.Fixture("tokenizers", "qwen2", "tokenizer.json"));
        }
        var documents = Documents((long)(megabytes * 1024 * 1024));
        var bytes = documents.Sum(d => (long)Encoding.UTF8.GetByteCount(d));
        foreach (var path in paths)
        {
            using var tokenizer = new Tokenizer(path);
            foreach (var document in documents.Take(50)) tokenizer.Encode(document); // warm-up
            var process = Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            long tokens = 0;
            foreach (var document in documents) tokens += tokenizer.Encode(document).Length;
            clock.Stop();
            process.Refresh();
            var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
            var mb = bytes / (1024.0 * 1024.0);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{path}: {mb:F2} MB in {documents.Count} documents -> {tokens} tokens; {clock.Elapsed.TotalSeconds:F2} s wall, {cpu:F2} s CPU; {mb / clock.Elapsed.TotalSeconds:F2} MB/s wall, {mb / cpu:F2} MB/s per core (CPU time)"));
        }
        return 0;
    }

    private static List<string> Documents(long totalBytes)
    {
        var documents = new List<string>();
        var random = new Random(7);
        long written = 0;
        var builder = new StringBuilder();
        while (written < totalBytes)
        {
            builder.Clear();
            while (builder.Length < 1024) builder.Append(s_snippets[random.Next(s_snippets.Length)]);
            var document = builder.ToString();
            documents.Add(document);
            written += Encoding.UTF8.GetByteCount(document);
        }
        return documents;
    }
}
