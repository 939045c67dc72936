using Adapters.Hub;
using Adapters.Registry;
using Adapters.Registry.Auth;

namespace Adapters.Registry.Tests;

/// <summary>A registry on a free loopback port over a temporary root, plus clients with fresh caches; everything is removed on dispose.</summary>
internal sealed class ServeTestHost : IAsyncDisposable
{
    private readonly List<HubClient> _clients = [];

    private readonly Func<RegistryServerOptions, RegistryServerOptions> _customize;

    private ServeTestHost(RegistryServer server, DirectoryInfo scratch, Func<RegistryServerOptions, RegistryServerOptions> customize)
    {
        Server = server;
        Scratch = scratch;
        _customize = customize;
    }

    public RegistryServer Server { get; private set; }

    public DirectoryInfo Scratch { get; }

    public string Root => Path.Combine(Scratch.FullName, "registry");

    public static async Task<ServeTestHost> StartAsync(
        IReadOnlyList<string>? tokens = null, long lfsChunkSize = 64L * 1024 * 1024, int pageSize = 1000, Func<RegistryServerOptions, RegistryServerOptions>? customize = null)
    {
        var scratch = Directory.CreateTempSubdirectory("adapters-serve-");
        customize ??= o => o;
        var server = await RegistryServer.StartAsync(customize(Options(Path.Combine(scratch.FullName, "registry"), tokens, lfsChunkSize, pageSize)));
        return new ServeTestHost(server, scratch, customize);
    }

    private static RegistryServerOptions Options(string root, IReadOnlyList<string>? tokens, long lfsChunkSize, int pageSize) => new()
    {
        RootDirectory = root,
        Port = 0,
        Tokens = (tokens ?? []).Select(AccessToken.Parse).ToList(),
        LfsChunkSize = lfsChunkSize,
        PageSize = pageSize,
    };

    /// <summary>Stops the server and starts a new one on the same root (a restart, e.g. after a crash), with the same customization but no tokens.</summary>
    public async Task RestartAsync()
    {
        await Server.DisposeAsync();
        Server = await RegistryServer.StartAsync(_customize(Options(Root, null, 64L * 1024 * 1024, 1000)));
    }

    /// <summary>A client of this registry with its own empty cache; <paramref name="useXet"/> false keeps its uploads and downloads on LFS and plain HTTP.</summary>
    public HubClient Client(string? token = null, bool useXet = true)
    {
        var client = new HubClient(new HubClientOptions
        {
            Endpoint = Server.Endpoint,
            Token = token,
            CacheDirectory = Scratch.CreateSubdirectory("cache-" + Guid.NewGuid().ToString("N")).FullName,
            Retry = new HubRetryOptions { MaxRetries = 0 },
            UseXet = useXet,
        });
        _clients.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        await Server.DisposeAsync();
        Scratch.Delete(recursive: true);
    }
}
