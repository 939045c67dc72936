using System.Net;
using Adapters.Registry.Endpoints;
using Adapters.Registry.Operations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Adapters.Registry;

/// <summary>
/// A Hub-compatible registry on Kestrel, storing repositories under <see cref="RegistryServerOptions.RootDirectory"/>.
/// <c>adapters-hub serve</c> runs one until Ctrl+C; tests start one in-process on a free loopback port
/// (<see cref="RegistryServerOptions.Port"/> = 0) and dispose it at the end.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServeServices _services;

    private RegistryServer(WebApplication app, ServeServices services, Uri endpoint, string root)
    {
        _app = app;
        _services = services;
        Endpoint = endpoint;
        RootDirectory = root;
    }

    /// <summary>The base URL clients use (<c>HF_ENDPOINT</c>).</summary>
    public Uri Endpoint { get; }

    /// <summary>The registry folder.</summary>
    public string RootDirectory { get; }

    /// <summary>Where the metadata lives, for people: <c>SQLite /root/registry.db</c> or <c>PostgreSQL host:port/database</c> (never a password).</summary>
    public string MetadataDescription => _services.Store.MetadataDescription;

    /// <summary>Starts listening; returns once the port is bound.</summary>
    public static async Task<RegistryServer> StartAsync(RegistryServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.LfsChunkSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.LfsChunkSize, "LfsChunkSize must be positive.");
        if (options.PageSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.PageSize, "PageSize must be positive.");
        var services = new ServeServices(options);
        try
        {
            return await StartCoreAsync(options, services, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            services.Dispose();
            throw;
        }
    }

    private static async Task<RegistryServer> StartCoreAsync(RegistryServerOptions options, ServeServices services, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = services.Store.Root });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Every body is capped while it streams in: JSON bodies by default, and the routes that take
            // more (commits, LFS objects) raise the cap for their request only (HttpIo.LimitBody).
            kestrel.Limits.MaxRequestBodySize = options.MaxJsonBodyBytes;
            // Slow clients cannot hold connections: headers, idle keep-alives and trickled bodies time out.
            kestrel.Limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
            kestrel.Limits.KeepAliveTimeout = options.KeepAliveTimeout;
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(options.MinRequestBodyBytesPerSecond, options.MinBodyRateGracePeriod);
            kestrel.Limits.MaxConcurrentConnections = options.MaxConcurrentConnections;
            if (options.Host == "localhost") kestrel.ListenLocalhost(options.Port);
            else if (IPAddress.TryParse(options.Host, out var address)) kestrel.Listen(address, options.Port);
            else throw new ArgumentException($"--host '{options.Host}' is not an IP address or 'localhost'.");
        });
        var app = builder.Build();
        // /healthz and /metrics first; every other request is routed (and logged with -v), then measured.
        app.Run(context => OperationsEndpoints.DispatchAsync(context, services));
        string address;
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("Kestrel started without reporting its address.");
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new RegistryServer(app, services, new Uri(address.Replace("[::1]", "localhost", StringComparison.Ordinal)), services.Store.Root);
    }

    /// <summary>Stops accepting requests and waits for those in flight.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        await _app.DisposeAsync().ConfigureAwait(false);
        _services.Dispose();
    }
}
