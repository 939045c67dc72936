using Adapters.Hub;
using Adapters.Registry;
using Adapters.Registry.Auth;

namespace Adapters.Registry.Tests;

/// <summary>A registry on a free loopback port over a temporary root, plus clients with fresh caches; everything is removed on dispose.</summary>
internal sealed class ServeTestHost : IAsyncDisposable
{
    private readonly List<HubClient> _clients = [];

    private readonly Func<RegistryServerOptions, RegistryServerOptions> _customize;

    private readonly RegistryServer? _secondReplica;
    private readonly Backends.RoundRobinBalancer? _balancer;

    private ServeTestHost(RegistryServer server, DirectoryInfo scratch, Func<RegistryServerOptions, RegistryServerOptions> customize,
        RegistryServer? secondReplica = null, Backends.RoundRobinBalancer? balancer = null)
    {
        Server = server;
        Scratch = scratch;
        _customize = customize;
        _secondReplica = secondReplica;
        _balancer = balancer;
    }

    /// <summary>The registry (with two replicas: the first one).</summary>
    public RegistryServer Server { get; private set; }

    /// <summary>Where clients reach the registry: the server, or with two replicas the balancer in front of them.</summary>
    public Uri Endpoint => _balancer?.Endpoint ?? Server.Endpoint;

    /// <summary>With two replicas, how many requests each answered; null with one.</summary>
    public long[]? AnsweredByReplica => _balancer?.Answered;

    public DirectoryInfo Scratch { get; }

    public string Root => Path.Combine(Scratch.FullName, "registry");

    public static async Task<ServeTestHost> StartAsync(
        IReadOnlyList<string>? tokens = null, long lfsChunkSize = 64L * 1024 * 1024, int pageSize = 1000, Func<RegistryServerOptions, RegistryServerOptions>? customize = null,
        int replicas = 1)
    {
        var scratch = Directory.CreateTempSubdirectory("adapters-serve-");
        customize ??= o => o;
        var options = customize(Options(Path.Combine(scratch.FullName, "registry"), tokens, lfsChunkSize, pageSize));
        var server = await RegistryServer.StartAsync(options);
        if (replicas == 1) return new ServeTestHost(server, scratch, customize);
        // A second replica on the same metadata and blob store, with its own local folder (a cache), behind a balancer
        // that alternates every request between the two.
        var second = await RegistryServer.StartAsync(options with { RootDirectory = Path.Combine(scratch.FullName, "registry-2") });
        var balancer = await Backends.RoundRobinBalancer.StartAsync([server.Endpoint, second.Endpoint]);
        return new ServeTestHost(server, scratch, customize, second, balancer);
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
            Endpoint = Endpoint,
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
        if (_balancer is not null)
        {
            await _balancer.DisposeAsync();
            // A suite run "on two replicas" that one replica never served proves nothing about replicas.
            if (_balancer.Answered.Sum() > 1 && _balancer.Answered.Any(n => n == 0))
                throw new InvalidOperationException($"The balancer sent no request to one replica ({string.Join(", ", _balancer.Answered)} requests answered).");
        }
        if (_secondReplica is not null) await _secondReplica.DisposeAsync();
        await Server.DisposeAsync();
        Scratch.Delete(recursive: true);
    }
}
