using System.Reflection;
using BenchmarkDotNet.Running;

namespace Adapters.Bench;

/// <summary>
/// Entry point. <c>dotnet run -c Release --project bench/Adapters.Bench -- --filter '*'</c> runs the
/// BenchmarkDotNet suites; <c>-- ratio NAME</c> runs one side-by-side comparison (<c>-- ratio list</c> names them);
/// <c>-- fuzz --cases N [--seed S]</c> runs the long parser fuzz (see <see cref="Fuzz.FuzzMode"/>);
/// <c>-- tokenizer-throughput</c> measures tokenizer.json encoding (see <see cref="Tokenization.TokenizerThroughput"/>);
/// <c>-- xet chunk-hash|dedupe</c> measures Xet chunking speed and upload dedupe (see <see cref="Xet.XetMode"/>).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "ratio")
        {
            var runs = typeof(Program).Assembly.GetTypes()
                .Where(t => typeof(IRatioRun).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
                .Select(t => (IRatioRun)Activator.CreateInstance(t)!)
                .ToDictionary(r => r.Name, StringComparer.OrdinalIgnoreCase);
            if (args.Length < 2 || !runs.TryGetValue(args[1], out var run))
            {
                Console.Error.WriteLine("usage: ratio NAME [args]; NAME is one of: " + string.Join(", ", runs.Keys.Order()));
                return 2;
            }
            await run.RunAsync(args[2..]).ConfigureAwait(false);
            return 0;
        }
        if (args is ["hub-ratio", .. var hubArgs])
        {
            return await Hub.HubRatioMode.RunAsync(hubArgs).ConfigureAwait(false);
        }
        if (args is [Fuzz.FuzzMode.Mode, .. var fuzzArgs])
        {
            return await Fuzz.FuzzMode.RunAsync(fuzzArgs).ConfigureAwait(false);
        }
        if (args is [Fuzz.FuzzMode.WorkerMode, .. var workerArgs])
        {
            return Fuzz.FuzzMode.RunWorker(workerArgs);
        }
        if (args is [Serve.ServeStreamingRatio.Mode, .. var serveArgs])
        {
            return await Serve.ServeStreamingRatio.RunAsync(serveArgs).ConfigureAwait(false);
        }
        if (args is [Serve.RegistryLoad.Mode, .. var loadArgs])
        {
            return await Serve.RegistryLoad.RunAsync(loadArgs).ConfigureAwait(false);
        }
        if (args is [Serve.MirrorRatio.Mode, .. var mirrorArgs])
        {
            return await Serve.MirrorRatio.RunAsync(mirrorArgs).ConfigureAwait(false);
        }
        if (args is [Serve.ServeSoak.Mode, .. var soakArgs])
        {
            return await Serve.ServeSoak.RunAsync(soakArgs).ConfigureAwait(false);
        }
        if (args is [Serve.ServeSoak.HostMode, .. var hostArgs])
        {
            return await Serve.ServeSoak.HostAsync(hostArgs).ConfigureAwait(false);
        }
        if (args is [Xet.XetMode.Mode, .. var xetArgs])
        {
            return await Xet.XetMode.RunAsync(xetArgs).ConfigureAwait(false);
        }
        if (args is [Tokenization.TokenizerThroughput.Mode, .. var tokenizerArgs])
        {
            return Tokenization.TokenizerThroughput.Run(tokenizerArgs);
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}

/// <summary>A side-by-side measurement that prints its own ratio (ours against a reference tool).</summary>
public interface IRatioRun
{
    /// <summary>The name given after <c>ratio</c> on the command line.</summary>
    string Name { get; }

    /// <summary>Runs the comparison and prints the timings and the ratio.</summary>
    Task RunAsync(string[] args);
}
