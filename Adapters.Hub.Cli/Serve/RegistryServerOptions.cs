using Adapters.Hub.Cli.Serve.Auth;

namespace Adapters.Hub.Cli.Serve;

/// <summary>Settings of a <see cref="RegistryServer"/>.</summary>
internal sealed class RegistryServerOptions
{
    /// <summary>The folder that holds the registry (created when missing).</summary>
    public required string RootDirectory { get; init; }

    /// <summary>The address to listen on; loopback by default.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one (see <see cref="RegistryServer.Endpoint"/>).</summary>
    public int Port { get; init; }

    /// <summary>Accepted bearer tokens; none means an open registry where everyone may read and write.</summary>
    public IReadOnlyList<AccessToken> Tokens { get; init; } = [];

    /// <summary>LFS objects larger than this are uploaded in parts of this size (the multipart transfer).</summary>
    public long LfsChunkSize { get; init; } = 64L * 1024 * 1024;

    /// <summary>Files at least this large go through LFS whatever their name (the Hub's 10 MB rule).</summary>
    public long LfsThreshold { get; init; } = 10L * 1024 * 1024;

    /// <summary>Entries per page of tree and model listings before a <c>Link: rel="next"</c>.</summary>
    public int PageSize { get; init; } = 1000;

    /// <summary>How long presigned download and upload URLs stay valid.</summary>
    public TimeSpan UrlLifetime { get; init; } = TimeSpan.FromHours(1);
}
