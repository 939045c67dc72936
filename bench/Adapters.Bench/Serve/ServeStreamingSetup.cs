using System.Diagnostics;
using System.Globalization;
using Adapters.Hub;
using Adapters.Registry;
using Adapters.Hub.Upload;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Adapters.Bench.Serve;

/// <summary>
/// One large LFS file pushed to <c>adapters-hub serve</c>, and the very same bytes behind a plain Kestrel
/// static file server, both on loopback; <see cref="CurlAsync"/> downloads either with <c>curl</c>.
/// </summary>
internal sealed class ServeStreamingSetup : IAsyncDisposable
{
    private readonly DirectoryInfo _scratch;
    private readonly RegistryServer _registry;
    private readonly WebApplication _static;

    private ServeStreamingSetup(DirectoryInfo scratch, RegistryServer registry, WebApplication staticServer, string serveUrl, string staticUrl, long size)
    {
        _scratch = scratch;
        _registry = registry;
        _static = staticServer;
        ServeUrl = serveUrl;
        StaticUrl = staticUrl;
        Size = size;
    }

    /// <summary>The <c>/resolve/</c> URL (a 302 to the blob route, followed by curl).</summary>
    public string ServeUrl { get; }

    /// <summary>The static file server's URL for the same bytes.</summary>
    public string StaticUrl { get; }

    public long Size { get; }

    public static async Task<ServeStreamingSetup> CreateAsync(long size)
    {
        var scratch = Directory.CreateTempSubdirectory("adapters-bench-serve-");
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

        var registry = await RegistryServer.StartAsync(new RegistryServerOptions { RootDirectory = Path.Combine(scratch.FullName, "registry") });
        using (var client = new HubClient(new HubClientOptions { Endpoint = registry.Endpoint, CacheDirectory = Path.Combine(scratch.FullName, "cache") }))
        {
            await client.Repositories.CreateRepoAsync("bench/large");
            await client.Commits.CreateCommitAsync("bench/large", [CommitOperation.AddFile("weights.bin", source)], "Add a large file");
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = scratch.FullName });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var staticServer = builder.Build();
        staticServer.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(scratch.FullName), ServeUnknownFileTypes = true });
        await staticServer.StartAsync();
        var staticBase = staticServer.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        return new ServeStreamingSetup(scratch, registry, staticServer,
            $"{registry.Endpoint}bench/large/resolve/main/weights.bin", $"{staticBase}/weights.bin", size);
    }

    /// <summary>Downloads <paramref name="url"/> with curl to /dev/null (following redirects) and returns the seconds curl measured.</summary>
    public async Task<double> CurlAsync(string url)
    {
        var start = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-sS", "-L", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", url }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"curl {url} failed: {await process.StandardError.ReadToEndAsync()}");
        var parts = output.Split(' ');
        var downloaded = long.Parse(parts[0], CultureInfo.InvariantCulture);
        if (downloaded != Size) throw new InvalidOperationException($"curl {url} received {downloaded} bytes, expected {Size}.");
        return double.Parse(parts[1], CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await _registry.DisposeAsync();
        await _static.StopAsync();
        await _static.DisposeAsync();
        _scratch.Delete(recursive: true);
    }
}
