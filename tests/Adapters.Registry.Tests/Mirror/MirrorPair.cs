using Adapters.Hub;
using Adapters.Registry.Auth;

namespace Adapters.Registry.Tests.Mirror;

/// <summary>
/// An upstream registry (standing in for the public Hub, with its requests logged so they can be counted) and a
/// mirror of it, each on its own loopback port and temporary root; both are removed on dispose.
/// </summary>
internal sealed class MirrorPair : IAsyncDisposable
{
    /// <summary>The upstream's writer, used only to seed it.</summary>
    public const string UpstreamWriter = "hf_upstream_writer_token";

    /// <summary>The token the mirror uses upstream; it must never appear in anything the mirror says or logs.</summary>
    public const string MirrorSecret = "hf_mirror_upstream_secret_4f1c9a";

    private readonly List<HubClient> _clients = [];

    private MirrorPair(RegistryServer upstream, ServeTestHost mirror, CapturingLogger upstreamLog, CapturingLogger mirrorLog, DirectoryInfo scratch)
    {
        Upstream = upstream;
        Mirror = mirror;
        UpstreamLog = upstreamLog;
        MirrorLog = mirrorLog;
        _scratch = scratch;
    }

    private readonly DirectoryInfo _scratch;

    public RegistryServer Upstream { get; private set; }

    public ServeTestHost Mirror { get; }

    public CapturingLogger UpstreamLog { get; }

    public CapturingLogger MirrorLog { get; }

    /// <param name="mirrorStore">The mirror's own backend (SQLite, PostgreSQL, S3) from the suite.</param>
    /// <param name="mirror">Mirror settings besides the upstream URL and token.</param>
    public static async Task<MirrorPair> StartAsync(Func<RegistryServerOptions, RegistryServerOptions>? mirrorStore = null, Func<UpstreamMirrorOptions, UpstreamMirrorOptions>? mirror = null)
    {
        var scratch = Directory.CreateTempSubdirectory("adapters-upstream-");
        var upstreamLog = new CapturingLogger();
        var upstream = await RegistryServer.StartAsync(new RegistryServerOptions
        {
            RootDirectory = Path.Combine(scratch.FullName, "registry"),
            Port = 0,
            Tokens = new[] { $"write:{UpstreamWriter}", $"read:{MirrorSecret}" }.Select(AccessToken.Parse).ToList(),
            RequestLog = upstreamLog,
        });
        var mirrorLog = new CapturingLogger();
        var settings = new UpstreamMirrorOptions { Upstream = upstream.Endpoint, UpstreamToken = MirrorSecret };
        settings = mirror?.Invoke(settings) ?? settings;
        var host = await ServeTestHost.StartAsync(customize: o => (mirrorStore ?? (x => x))(o) with { Mirror = settings, RequestLog = mirrorLog });
        return new MirrorPair(upstream, host, upstreamLog, mirrorLog, scratch);
    }

    /// <summary>A client of the upstream with write access and its own cache.</summary>
    public HubClient UpstreamClient()
    {
        var client = new HubClient(new HubClientOptions
        {
            Endpoint = Upstream.Endpoint,
            Token = UpstreamWriter,
            CacheDirectory = _scratch.CreateSubdirectory("cache-" + Guid.NewGuid().ToString("N")).FullName,
            Retry = new HubRetryOptions { MaxRetries = 0 },
        });
        _clients.Add(client);
        return client;
    }

    /// <summary>Stops the upstream (the Hub going away), leaving the mirror running.</summary>
    public async Task StopUpstreamAsync()
    {
        if (_upstreamStopped) return;
        _upstreamStopped = true;
        await Upstream.DisposeAsync();
    }

    private bool _upstreamStopped;

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        await Mirror.DisposeAsync();
        await StopUpstreamAsync();
        _scratch.Delete(recursive: true);
    }
}
