using BenchmarkDotNet.Running;

namespace Adapters.Bench;

/// <summary>
/// Entry point for the benchmarks: <c>dotnet run -c Release --project bench/Adapters.Bench -- --filter '*'</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args is [Serve.ServeStreamingRatio.Mode, .. var rest]) { Environment.Exit(Serve.ServeStreamingRatio.RunAsync(rest).GetAwaiter().GetResult()); }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
