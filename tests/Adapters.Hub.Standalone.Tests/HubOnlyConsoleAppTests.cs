using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Adapters.Hub.Tests.Stubs;

namespace Adapters.Hub.Standalone.Tests;

/// <summary>
/// The promise to .NET developers who only want to download models: a console app that references
/// Adapters.Hub alone (samples/HubSnapshot) builds without TorchSharp and downloads a snapshot.
/// </summary>
public sealed class HubOnlyConsoleAppTests : IDisposable
{
    private static readonly string[] s_torchNames = ["TorchSharp", "libtorch", "Adapters.Core"];
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-hub-only-").FullName;

    [Fact]
    public async Task The_sample_app_downloads_a_snapshot_from_a_hub_into_pythons_cache_layout()
    {
        using var stub = new HubStub();
        var config = stub.AddFile("org/tiny", "config.json", """{"model_type": "bert"}""");
        var weights = stub.AddFile("org/tiny", "model.safetensors", RandomNumberGenerator.GetBytes(70_000), lfs: true);

        var (exitCode, stdout, stderr) = await RunSampleAsync(stub.Endpoint, "org/tiny");

        Assert.True(exitCode == 0, $"exit {exitCode}: {stderr}");
        var snapshot = stdout.Split('\n')[0].Trim();
        Assert.Equal(Path.Combine(_cache, "models--org--tiny", "snapshots", HubStub.CommitA), snapshot);
        Assert.Equal(config.Content, await File.ReadAllBytesAsync(Path.Combine(snapshot, "config.json")));
        Assert.Equal(weights.Content, await File.ReadAllBytesAsync(Path.Combine(snapshot, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(_cache, "models--org--tiny", "blobs", weights.Sha256)));
    }

    [Fact]
    public void Nothing_the_sample_loads_or_ships_is_torch_or_adapter_code()
    {
        var referenced = typeof(HubClient).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();
        Assert.DoesNotContain(referenced, name => s_torchNames.Any(t => name.StartsWith(t, StringComparison.OrdinalIgnoreCase)));

        var depsFile = Path.Combine(AppContext.BaseDirectory, "HubSnapshot.deps.json");
        using var deps = JsonDocument.Parse(File.ReadAllText(depsFile));
        var libraries = deps.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains(libraries, name => name.StartsWith("Adapters.Hub/", StringComparison.Ordinal));
        Assert.DoesNotContain(libraries, name => s_torchNames.Any(t => name.StartsWith(t, StringComparison.OrdinalIgnoreCase)));
        Assert.Empty(Directory.EnumerateFiles(AppContext.BaseDirectory, "*orch*", SearchOption.AllDirectories));
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunSampleAsync(Uri endpoint, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "HubSnapshot.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["HF_ENDPOINT"] = endpoint.ToString().TrimEnd('/');
        start.Environment["HF_HUB_CACHE"] = _cache;
        start.Environment["HF_HOME"] = Path.Combine(_cache, "home");
        start.Environment["HF_TOKEN"] = "hf_stub_token_for_tests";
        start.Environment.Remove("HF_HUB_OFFLINE");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    public void Dispose() => Directory.Delete(_cache, recursive: true);
}
