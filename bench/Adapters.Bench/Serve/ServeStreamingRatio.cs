using System.Globalization;

namespace Adapters.Bench.Serve;

/// <summary>
/// The side-by-side mode: <c>dotnet run -c Release --project bench/Adapters.Bench -- serve-ratio [runs] [MiB]</c>.
/// Alternates curl downloads of the same LFS file from <c>serve</c> and from a static Kestrel server and
/// prints the median throughputs and their ratio (goal ≥ 0.9).
/// </summary>
public static class ServeStreamingRatio
{
    public const string Mode = "serve-ratio";

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var mebibytes = args.Length > 1 ? long.Parse(args[1], CultureInfo.InvariantCulture) : 1024;
        await using var setup = await ServeStreamingSetup.CreateAsync(mebibytes << 20);
        await setup.CurlAsync(setup.StaticUrl);
        await setup.CurlAsync(setup.ServeUrl);
        var serve = new List<double>();
        var baseline = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            baseline.Add(setup.Size / await setup.CurlAsync(setup.StaticUrl));
            serve.Add(setup.Size / await setup.CurlAsync(setup.ServeUrl));
        }
        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        const double MiB = 1 << 20;
        var ratio = Median(serve) / Median(baseline);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"serve-ratio: {mebibytes} MiB x {runs} runs, curl over loopback; static Kestrel {Median(baseline) / MiB:F0} MiB/s, serve {Median(serve) / MiB:F0} MiB/s, ratio {ratio:F2} (goal >= 0.90)"));
        return 0;
    }
}
